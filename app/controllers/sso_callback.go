package controllers

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"beacon/app/sso"
)

// ssoCallback finishes a sign-in through the identity provider
// (GET /auth/oidc/callback): only for the flow this browser's session
// kept, once, in time; then the code is exchanged, the ID token verified,
// and the person signed in under a new session id. Every refusal is the
// sign-in page with a message and creates nothing.
func (ctl *Controller) ssoCallback(c echo.Context) error {
	ctx := c.Request().Context()
	kept, err := ctl.Sessions.TakeSignOn(c)
	if err != nil {
		return err
	}
	f, err := sso.DecodeFlow(kept)
	if err != nil {
		ctl.Log.Warn("single sign-on: unreadable flow in the session", "err", err)
	}
	q := c.QueryParams()
	if !f.Matches(q.Get("state"), time.Now()) {
		return ctl.ssoRefuse(c, http.StatusBadRequest,
			"This sign-in was not started in this browser, was used already, or took too long. Please sign in again.")
	}
	if e := q.Get("error"); e != "" {
		ctl.Log.Info("single sign-on: the provider did not sign the person in", "error", truncate(e, 64))
		return ctl.ssoRefuse(c, http.StatusForbidden, ctl.SSO.Name+" did not sign you in. Please try again, or ask your administrator for access to Beacon.")
	}
	code := q.Get("code")
	if code == "" {
		return ctl.ssoRefuse(c, http.StatusBadRequest, ctl.SSO.Name+" sent no sign-in code. Please sign in again.")
	}
	id, err := ctl.SSO.Provider.Exchange(ctx, code, f)
	switch {
	case errors.Is(err, sso.ErrUnavailable):
		ctl.Log.Warn("single sign-on: the provider cannot be reached", "err", err)
		return ctl.ssoRefuse(c, http.StatusServiceUnavailable, ctl.SSO.Name+" cannot be reached right now. Please try again in a minute.")
	case errors.Is(err, sso.ErrRefused):
		// err holds no token: sso keeps them out of its errors.
		ctl.Log.Warn("single sign-on: refused the provider's answer", "err", err)
		return ctl.ssoRefuse(c, http.StatusBadRequest, "The answer from "+ctl.SSO.Name+" could not be accepted. Please sign in again.")
	case err != nil:
		return err
	}
	u, refusal, err := ctl.ssoUser(ctx, id)
	if err != nil {
		return err
	}
	if refusal != "" {
		ctl.Log.Info("single sign-on: refused", "subject", truncate(id.Subject, 64), "reason", refusal)
		return ctl.ssoRefuse(c, http.StatusForbidden, refusal)
	}
	if err := ctl.ssoFollowGroups(ctx, &u, id); err != nil {
		return err
	}
	if err := ctl.Sessions.Login(c, u.ID); err != nil {
		return err
	}
	ctl.Devices.Issue(c, u.ID)
	switch {
	case f.Next != "":
		return c.Redirect(http.StatusSeeOther, f.Next)
	case u.Admin:
		return c.Redirect(http.StatusSeeOther, "/admin/notifications")
	}
	return c.Redirect(http.StatusSeeOther, "/")
}
