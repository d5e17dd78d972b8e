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
	if problem := auth.TokenNameProblem(name); problem != "" {
		page, err := ctl.settingsPage(c)
		if err != nil {
			return err
		}
		page.Tokens.Name, page.Tokens.Error = name, problem
		return ctl.renderSettings(c, http.StatusUnprocessableEntity, page)
	}
	token, hash := auth.NewReadToken()
	if _, err := ctl.Store.CreateReadToken(c.Request().Context(), auth.UserID(c), name, hash); err != nil {
		return err
	}
	page, err := ctl.settingsPage(c)
	if err != nil {
		return err
	}
	page.Tokens.Created = token
	return ctl.renderSettings(c, http.StatusCreated, page)
}
