package controllers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/views/pages"
)

// settingsShow is the signed-in person's settings (GET /settings).
func (ctl *Controller) settingsShow(c echo.Context) error {
	devices, err := ctl.Store.PushSubscriptionsOf(c.Request().Context(), auth.UserID(c))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.Settings(ctl.page(c, "Settings"), devices))
}
