package controllers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/views/pages"
)

// sessionNew shows the sign-in form.
func (ctl *Controller) sessionNew(c echo.Context) error {
	if auth.CurrentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return ctl.renderLogin(c, http.StatusOK, "", "")
}

// renderLogin answers with the sign-in page, its email filled in and msg
// above it: the password form (unless PASSWORD_LOGIN=false), and the way
// to the identity provider when there is one.
func (ctl *Controller) renderLogin(c echo.Context, status int, email, msg string) error {
	p, err := ctl.formPage(c, "Sign in")
	if err != nil {
		return err
	}
	f := pages.LoginForm{Email: email, Problem: msg, Password: ctl.PasswordLogin}
	if ctl.SSO.Provider != nil {
		f.SSOName = ctl.SSO.Name
	}
	return render(c, status, pages.Login(p, f))
}
