package controllers

import (
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/models"
	"beacon/app/store"
	"beacon/views/pages"
)

// Limits on a new account's fields. bcrypt reads at most 72 bytes of a
// password, so a longer one would be silently cut.
const (
	maxName        = 100
	maxEmail       = 254
	minPassword    = 8
	maxPasswordLen = 72
)

// signupCreate creates an account and signs it in.
func (ctl *Controller) signupCreate(c echo.Context) error {
	form := pages.SignupForm{Name: strings.TrimSpace(c.FormValue("name")), Email: strings.TrimSpace(c.FormValue("email"))}
	password := c.FormValue("password")
	form.Errors = validateSignup(form.Name, form.Email, password)
	if len(form.Errors) > 0 {
		return render(c, http.StatusUnprocessableEntity, pages.Signup(ctl.page(c, "Sign up"), form))
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	u := models.User{Name: form.Name, Email: form.Email, PasswordHash: hash}
	err = ctl.Store.CreateUser(c.Request().Context(), &u)
	if errors.Is(err, store.ErrEmailTaken) {
		form.Errors = map[string]string{"email": "is already taken"}
		return render(c, http.StatusUnprocessableEntity, pages.Signup(ctl.page(c, "Sign up"), form))
	}
	if err != nil {
		return err
	}
	if err := ctl.Sessions.Login(c, u.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

// validateSignup returns the problems with a sign-up, by field.
func validateSignup(name, email, password string) map[string]string {
	errs := map[string]string{}
	switch {
	case name == "":
		errs["name"] = "can't be blank"
	case !models.IsText(name):
		errs["name"] = notText
	case utf8.RuneCountInString(name) > maxName:
		errs["name"] = fmt.Sprintf("is too long (at most %d characters)", maxName)
	}
	switch {
	case email == "":
		errs["email"] = "can't be blank"
	case len(email) > maxEmail || !models.IsText(email) || !plainEmail(email):
		errs["email"] = "is not a valid email address"
	}
	switch {
	case !models.IsText(password):
		errs["password"] = notText
	case utf8.RuneCountInString(password) < minPassword:
		errs["password"] = fmt.Sprintf("is too short (at least %d characters)", minPassword)
	case len(password) > maxPasswordLen:
		errs["password"] = fmt.Sprintf("is too long (at most %d bytes)", maxPasswordLen)
	}
	return errs
}

// plainEmail accepts a bare address such as a@example.com: no display
// name, no angle brackets, and a dot in the domain.
func plainEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	_, domain, _ := strings.Cut(s, "@")
	return strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}
