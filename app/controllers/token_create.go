package controllers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/views/pages"
)

// tokenCreate makes an API token for the signed-in admin and shows it this
// once (only its hash is kept), on the Tokens page.
func (ctl *Controller) tokenCreate(c echo.Context) error {
	name := strings.TrimSpace(c.FormValue("name"))
	if p := auth.TokenNameProblem(name); p != "" {
		return ctl.renderTokens(c, http.StatusUnprocessableEntity, pages.TokensPage{Name: name, Errors: map[string]string{"name": p}})
	}
	token, hash := auth.NewAPIToken()
	if _, err := ctl.Store.CreateNamedAPIToken(c.Request().Context(), auth.UserID(c), name, hash); err != nil {
		return err
	}
	return ctl.renderTokens(c, http.StatusCreated, pages.TokensPage{Created: token})
}
