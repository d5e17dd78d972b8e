package controllers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/models"
	"beacon/app/store"
)

// sessionCreate signs a user in with a password, unless PASSWORD_LOGIN=false
// turned that off (403). Attempts are throttled per email and per
// client address, or per device for a browser that signed in as that user
// before; a refused one is not checked, so it teaches nothing.
func (ctl *Controller) sessionCreate(c echo.Context) error {
	if !ctl.PasswordLogin {
		return ctl.renderLogin(c, http.StatusForbidden, "", "Signing in with a password is turned off here: sign in with "+ctl.SSO.Name+".")
	}
	ctx := c.Request().Context()
	email, password := c.FormValue("email"), c.FormValue("password")
	if !models.IsText(email) || len(email) > models.MaxEmail {
		// No account has such an email, and it must not reach the
		// database, not even as a throttle subject.
		return ctl.renderLogin(c, http.StatusUnprocessableEntity, "", "Invalid email or password.")
	}
	u, err := ctl.Store.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	found := err == nil
	var device string // this browser's device cookie for the account
	if found {
		device = ctl.Devices.Device(c, u.ID)
	}
	attempt, wait, err := ctl.Throttle.Begin(ctx, store.NormalizeEmail(email), c.RealIP(), device)
	if err != nil {
		return err
	}
	if wait > 0 {
		secs := int64((wait + time.Second - 1) / time.Second)
		c.Response().Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		msg := fmt.Sprintf("Too many failed sign-in attempts. Please wait %s and try again.", roughly(wait))
		return ctl.renderLogin(c, http.StatusTooManyRequests, email, msg)
	}
	var ok bool
	if found {
		ok = auth.CheckPassword(u.PasswordHash, password)
	} else {
		ok = auth.CheckNoPassword(password)
	}
	if !ok { // the attempt stays counted as a failure
		return ctl.renderLogin(c, http.StatusUnprocessableEntity, email, "Invalid email or password.")
	}
	if err := attempt.Succeed(ctx); err != nil {
		ctl.Log.Warn("clear login failures", "user", u.ID, "err", err)
	}
	if err := ctl.Sessions.Login(c, u.ID); err != nil {
		return err
	}
	ctl.Devices.Issue(c, u.ID)
	if u.Admin {
		return c.Redirect(http.StatusSeeOther, "/admin/notifications")
	}
	return c.Redirect(http.StatusSeeOther, "/")
}
