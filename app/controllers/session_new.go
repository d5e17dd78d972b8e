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
	return render(c, http.StatusOK, pages.Login(ctl.page(c, "Sign in"), "", ""))
}
