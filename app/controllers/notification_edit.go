package controllers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"beacon/app/audience"
	"beacon/app/models"
	"beacon/views/pages"
)

// notificationEdit shows the admin's edit form for a live or scheduled
// notification (GET /admin/notifications/:id/edit).
func (ctl *Controller) notificationEdit(c echo.Context) error {
	id, err := notificationID(c)
	if err != nil {
		return err
	}
	n, err := ctl.notification(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.EditNotification(ctl.page(c, "Edit notification"), editForm(n)))
}

// editForm is the edit form filled with n as it stands.
func editForm(n models.Notification) pages.NotificationForm {
	f := pages.NotificationForm{ID: n.ID, Title: n.Title, Body: n.Body, Level: n.Level, Scheduled: n.Scheduled,
		To: strings.Join(audience.ShownToAdmin(n).To, ", ")} // blank: everyone
	if n.Key != nil {
		f.Key = *n.Key
	}
	if n.URL != nil {
		f.URL = *n.URL
	}
	if n.Scheduled && n.DeliverAt != nil {
		f.DeliverAt = n.DeliverAt.UTC().Format("2006-01-02T15:04:05")
	}
	return f
}
