package controllers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

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
	switch {
	case name == "":
		errs["name"] = "can't be blank"
	case !models.IsText(name):
		errs["name"] = models.NotText
	case utf8.RuneCountInString(name) > auth.MaxName:
		errs["name"] = fmt.Sprintf("is too long (at most %d characters)", auth.MaxName)
	}
	switch {
	case email == "":
		errs["email"] = "can't be blank"
	case !auth.ValidEmail(email):
		errs["email"] = "is not a valid email address"
	}
	if p := auth.PasswordProblem(password); p != "" {
		errs["password"] = p
	}
	return errs
}
