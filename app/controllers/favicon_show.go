package controllers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// faviconShow answers /favicon.ico, which some browsers and tools ask for on
// their own although the layout links assets/icon.svg: No Content, so that
// the request costs nothing and logs no 404 in the console.
func (ctl *Controller) faviconShow(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=86400")
	return c.NoContent(http.StatusNoContent)
}
