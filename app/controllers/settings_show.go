package controllers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/views/pages"
)

// settingsShow is the signed-in person's settings (GET /settings).
func (ctl *Controller) settingsShow(c echo.Context) error {
	uid := auth.UserID(c)
	prefs, err := ctl.Store.PreferencesOf(c.Request().Context(), uid)
	if err != nil {
		return err
	}
	devices, err := ctl.Store.PushSubscriptionsOf(c.Request().Context(), uid)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.Settings(ctl.page(c, "Settings"), pages.PreferencesForm{Prefs: prefs}, devices))
}
