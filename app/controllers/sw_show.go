package controllers

import (
	"bytes"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"beacon/assets"
)

// swShow serves the service worker (GET /sw.js) from the site's root, so
// that its scope is the whole site. no-cache: a browser revalidates it on
// every update check, so a deploy's new worker takes over at once.
func (ctl *Controller) swShow(c echo.Context) error {
	a, ok := assets.Lookup("sw.js")
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "There is no service worker.")
	}
	h := c.Response().Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", `"`+a.Hash+`"`)
	http.ServeContent(c.Response(), c.Request(), a.Name, time.Time{}, bytes.NewReader(a.Body))
	return nil
}
