package controllers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/views/pages"
)

// signupNew shows the sign-up form.
func (ctl *Controller) signupNew(c echo.Context) error {
	if auth.CurrentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return ctl.renderSignup(c, http.StatusOK, pages.SignupForm{})
}

// renderSignup answers with the sign-up form as filled in, with its errors.
func (ctl *Controller) renderSignup(c echo.Context, status int, form pages.SignupForm) error {
	p, err := ctl.formPage(c, "Sign up")
	if err != nil {
		return err
	}
	return render(c, status, pages.Signup(p, form))
}
