package controllers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/store"
	"beacon/views/pages"
)

// sessionsNew shows the sign-in form.
func (ctl *Controller) sessionsNew(c echo.Context) error {
	if auth.CurrentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return render(c, http.StatusOK, pages.Login(page(c, "Sign in"), "", ""))
}

// sessionsCreate signs a user in.
func (ctl *Controller) sessionsCreate(c echo.Context) error {
	email, password := c.FormValue("email"), c.FormValue("password")
	u, err := ctl.Store.UserByEmail(c.Request().Context(), email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	var ok bool
	if err == nil {
		ok = auth.CheckPassword(u.PasswordHash, password)
	} else {
		ok = auth.CheckUnknownPassword(password)
	}
	if !ok {
		return render(c, http.StatusUnprocessableEntity, pages.Login(page(c, "Sign in"), email, "Invalid email or password."))
	}
	if err := ctl.Sessions.Login(c, u.ID); err != nil {
		return err
	}
	if u.Admin {
		return c.Redirect(http.StatusSeeOther, "/admin/notifications")
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

// sessionsDestroy signs the user out.
func (ctl *Controller) sessionsDestroy(c echo.Context) error {
	if err := ctl.Sessions.Logout(c); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}
