package controllers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
)

// readTokenCreate makes a personal read token for the signed-in person
// (POST /settings/tokens) and shows it this once, on their settings: only
// its hash is kept.
func (ctl *Controller) readTokenCreate(c echo.Context) error {
	name := strings.TrimSpace(c.FormValue("name"))
	problem := auth.TokenNameProblem(name)
	token, hash := auth.NewReadToken()
	if problem == "" {
		if _, err := ctl.Store.CreateReadToken(c.Request().Context(), auth.UserID(c), name, hash); err != nil {
			return err
		}
	}
	page, err := ctl.settingsPage(c)
	if err != nil {
		return err
	}
	if problem != "" {
		page.Tokens.Name, page.Tokens.Error = name, problem
		return ctl.renderSettings(c, http.StatusUnprocessableEntity, page)
	}
	page.Tokens.Created = token
	return ctl.renderSettings(c, http.StatusCreated, page)
}
