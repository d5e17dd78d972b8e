package controllers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"beacon/views/pages"
)

// adminListLimit is how many notifications the admin list shows.
const adminListLimit = 200

// adminNotificationsIndex lists posted notifications with delivery counts.
func (ctl *Controller) adminNotificationsIndex(c echo.Context) error {
	ns, err := ctl.Store.LatestNotifications(c.Request().Context(), adminListLimit)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.AdminNotifications(ctl.page(c, "Posted notifications"), ns))
}

// adminNotificationsNew shows the empty form.
func (ctl *Controller) adminNotificationsNew(c echo.Context) error {
	return render(c, http.StatusOK, pages.NewNotification(ctl.page(c, "New notification"), pages.NotificationForm{Level: "info"}))
}

// adminNotificationsCreate posts a notification from the form.
func (ctl *Controller) adminNotificationsCreate(c echo.Context) error {
	in := notificationInput{
		Title:     c.FormValue("title"),
		Body:      c.FormValue("body"),
		Level:     c.FormValue("level"),
		Recipient: c.FormValue("recipient"),
	}
	n, errs, err := ctl.validate(c.Request().Context(), in)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		form := pages.NotificationForm{Title: in.Title, Body: in.Body, Level: in.Level, Recipient: in.Recipient, Errors: errs}
		return render(c, http.StatusUnprocessableEntity, pages.NewNotification(ctl.page(c, "New notification"), form))
	}
	if err := ctl.post(c.Request().Context(), &n); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/notifications")
}
