package controllers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// faviconShow answers the /favicon.ico request browsers make on their own
// for pages that name no icon; a 404 there logs an error in the console of
// every page. No Content until the layout links a real icon.
func (ctl *Controller) faviconShow(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=86400")
	return c.NoContent(http.StatusNoContent)
}
