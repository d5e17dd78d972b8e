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
	return render(c, http.StatusOK, pages.Signup(ctl.page(c, "Sign up"), pages.SignupForm{}))
}
