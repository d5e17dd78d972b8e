package controllers

import (
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/broker"
	"beacon/app/models"
	"beacon/views/pages"
)

// settingsUpdate saves what may interrupt the person (POST /settings):
// 303 back to the settings, or 422 with the form and what is wrong, and
// nothing saved. Pushes read it when they are sent, on every instance.
func (ctl *Controller) settingsUpdate(c echo.Context) error {
	uid := auth.UserID(c)
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	p := models.Preferences{
		UserID:           uid,
		Levels:           strings.Join(form["levels"], ","),
		QuietStart:       strings.TrimSpace(form.Get("quiet_start")),
		QuietEnd:         strings.TrimSpace(form.Get("quiet_end")),
		TimeZone:         strings.TrimSpace(form.Get("time_zone")),
		QuietAllowErrors: form.Get("quiet_allow_errors") == "true",
	}
	if errs := models.CheckPreferences(p); len(errs) > 0 {
		page, err := ctl.settingsPage(c)
		if err != nil {
			return err
		}
		page.Form = pages.PreferencesForm{Prefs: p, Errors: errs}
		return ctl.renderSettings(c, http.StatusUnprocessableEntity, page)
	}
	err = broker.SaveThenPublish(c.Request().Context(), ctl.Publisher, ctl.Log, broker.UserTopic(uid), func(ctx context.Context) error {
		return ctl.Store.SavePreferences(ctx, p)
	})
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/settings")
}
