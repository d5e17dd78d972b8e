package controllers

import (
	"context"
	"net/url"
	"strings"
	"unicode"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/sso"
)

// SignOn is the identity provider's side of single sign-on (sso.Provider).
type SignOn interface {
	AuthCodeURL(ctx context.Context, f sso.Flow) (string, error)
	Exchange(ctx context.Context, code string, f sso.Flow) (sso.Identity, error)
}

// SSO is single sign-on as configured (OIDC_*).
type SSO struct {
	Provider SignOn // nil: no single sign-on, and no /auth/oidc routes
	Name     string // OIDC_NAME: "Sign in with Name"
	// RedirectURL is OIDC_REDIRECT_URL; "" builds it from each request.
	RedirectURL string
	// AdminGroup is OIDC_ADMIN_GROUP: its members are admins, everyone
	// else who signs in is not; "" leaves admin rights alone.
	AdminGroup string
}

// ssoCallbackPath is where the provider sends the browser back.
const ssoCallbackPath = "/auth/oidc/callback"

// ssoRedirectURL is the callback's absolute address as the provider must
// know it: OIDC_REDIRECT_URL, else this request's scheme and host.
func (ctl *Controller) ssoRedirectURL(c echo.Context) string {
	if ctl.SSO.RedirectURL != "" {
		return ctl.SSO.RedirectURL
	}
	scheme := "http"
	if auth.Secure(c) {
		scheme = "https"
	}
	return scheme + "://" + c.Request().Host + ssoCallbackPath
}

// localPath is next when it is a path on this site ("/topics?x=1"), else
// "": never another host, not even by "//host", "/\host" or a scheme.
func localPath(next string) string {
	// Browsers drop tabs and newlines and read \ as /: "/\t/host" and
	// "/\host" are "//host" to them.
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsRune(next, '\\') ||
		strings.IndexFunc(next, unicode.IsControl) >= 0 {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	return next
}
