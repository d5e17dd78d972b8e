package controllers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/models"
	"beacon/app/store"
	"beacon/views/pages"
)

// signupCreate creates an account and signs it in.
func (ctl *Controller) signupCreate(c echo.Context) error {
	form := pages.SignupForm{Name: strings.TrimSpace(c.FormValue("name")), Email: strings.TrimSpace(c.FormValue("email"))}
	password := c.FormValue("password")
	form.Errors = validateSignup(form.Name, form.Email, password)
	if len(form.Errors) > 0 {
		return ctl.renderSignup(c, http.StatusUnprocessableEntity, form)
	}
	// Counted once the form is good, whatever comes of it: probing which
	// emails are taken counts too.
	wait, err := ctl.SignupLimit.Begin(c.Request().Context(), c.RealIP())
	if err != nil {
		return err
	}
	if wait > 0 {
		c.Response().Header().Set("Retry-After", strconv.FormatInt(int64((wait+time.Second-1)/time.Second), 10))
		form.Errors = map[string]string{"form": "Too many sign-ups from your address. Please wait " + roughly(wait) + " and try again."}
		return ctl.renderSignup(c, http.StatusTooManyRequests, form)
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	u := models.User{Name: form.Name, Email: form.Email, PasswordHash: hash}
	err = ctl.Store.CreateUser(c.Request().Context(), &u)
	if errors.Is(err, store.ErrEmailTaken) {
		form.Errors = map[string]string{"email": "is already taken"}
		return ctl.renderSignup(c, http.StatusUnprocessableEntity, form)
	}
	if err != nil {
		return err
	}
	if err := ctl.Sessions.Login(c, u.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

// validateSignup returns the problems with a sign-up, by field, by the
// account rules in auth.
func validateSignup(name, email, password string) map[string]string {
	errs := map[string]string{}
	if p := auth.NameProblem(name); p != "" {
		errs["name"] = p
	}
	switch {
	case email == "":
		errs["email"] = "can't be blank"
	case !auth.ValidEmail(email):
		errs["email"] = "is not a valid email address"
	}
	if p := auth.PasswordProblem(password, name, email); p != "" {
		errs["password"] = p
	}
	return errs
}
