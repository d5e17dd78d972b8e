package controllers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
)

// sessionDestroy signs the user out.
func (ctl *Controller) sessionDestroy(c echo.Context) error {
	if err := ctl.Sessions.Logout(c); err != nil {
		return err
	}
	// The user's open streams check their sessions: the one just ended
	// must stop receiving this user's notifications.
	if uid := auth.UserID(c); uid != 0 {
		ctl.publishUser(c.Request().Context(), uid)
	}
	return c.Redirect(http.StatusSeeOther, "/")
}
