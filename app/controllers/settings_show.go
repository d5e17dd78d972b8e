package controllers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/views/pages"
)

// settingsShow is the signed-in person's settings (GET /settings).
func (ctl *Controller) settingsShow(c echo.Context) error {
	s, err := ctl.settingsPage(c)
	if err != nil {
		return err
	}
	return ctl.renderSettings(c, http.StatusOK, s)
}

// settingsPage reads what /settings shows the signed-in person as saved;
// a refused form then replaces its part.
func (ctl *Controller) settingsPage(c echo.Context) (pages.SettingsPage, error) {
	ctx, uid := c.Request().Context(), auth.UserID(c)
	var s pages.SettingsPage
	var err error
	if s.Form.Prefs, err = ctl.Store.PreferencesOf(ctx, uid); err != nil {
		return s, err
	}
	if s.Devices, err = ctl.Store.PushSubscriptionsOf(ctx, uid); err != nil {
		return s, err
	}
	if s.Topics, err = ctl.Store.OpenGroups(ctx, uid); err != nil {
		return s, err
	}
	if s.Tokens.Tokens, err = ctl.Store.ReadTokens(ctx, uid); err != nil {
		return s, err
	}
	return s, nil
}

func (ctl *Controller) renderSettings(c echo.Context, status int, s pages.SettingsPage) error {
	return render(c, status, pages.Settings(ctl.page(c, "Settings"), s))
}
