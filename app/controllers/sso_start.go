package controllers

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/sso"
)

// ssoStart sends the browser to the identity provider to sign in
// (GET /auth/oidc; ?next=/a/local/path is where to go after). The flow's
// state, nonce and PKCE verifier stay in this browser's session for the
// callback; a new start replaces an unfinished one.
func (ctl *Controller) ssoStart(c echo.Context) error {
	next := localPath(c.QueryParam("next"))
	if auth.CurrentUser(c) != nil {
		if next == "" {
			next = "/"
		}
		return c.Redirect(http.StatusSeeOther, next)
	}
	f := sso.NewFlow(ctl.ssoRedirectURL(c), next, time.Now())
	target, err := ctl.SSO.Provider.AuthCodeURL(c.Request().Context(), f)
	if errors.Is(err, sso.ErrUnavailable) {
		ctl.Log.Warn("single sign-on: the provider cannot be reached", "err", err)
		return ctl.ssoRefuse(c, http.StatusServiceUnavailable, ctl.SSO.Name+" cannot be reached right now. Please try again in a minute.")
	}
	if err != nil {
		return err
	}
	if err := ctl.Sessions.KeepSignOn(c, f.Encode()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, target)
}

// ssoRefuse answers a sign-in through the provider that did not happen:
// the sign-in page with msg above it, with status.
func (ctl *Controller) ssoRefuse(c echo.Context, status int, msg string) error {
	return ctl.renderLogin(c, status, "", msg)
}
