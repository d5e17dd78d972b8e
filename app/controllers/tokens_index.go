package controllers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"beacon/views/pages"
)

// tokensIndex lists every API token, for admins, with the form to make one.
func (ctl *Controller) tokensIndex(c echo.Context) error {
	return ctl.renderTokens(c, http.StatusOK, pages.TokensPage{})
}

// renderTokens answers with the Tokens page, t's list filled in.
func (ctl *Controller) renderTokens(c echo.Context, status int, t pages.TokensPage) error {
	ts, err := ctl.Store.APITokens(c.Request().Context(), 0)
	if err != nil {
		return err
	}
	t.Tokens = ts
	return render(c, status, pages.AdminTokens(ctl.page(c, "API tokens"), t))
}
