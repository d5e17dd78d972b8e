package controllers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"beacon/views/pages"
)

// notificationNew shows the admin's empty form.
func (ctl *Controller) notificationNew(c echo.Context) error {
	return render(c, http.StatusOK, pages.NewNotification(ctl.page(c, "New notification"), pages.NotificationForm{Level: "info"}))
}
