package controllers

import (
	"bytes"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"beacon/assets"
)

// assetShow serves an embedded asset. Asked for by its versioned path
// (?v=hash, as pages link it), it may be cached for a year; otherwise it
// is revalidated by ETag.
func (ctl *Controller) assetShow(c echo.Context) error {
	a, ok := assets.Lookup(c.Param("name"))
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such asset.")
	}
	h := c.Response().Header()
	h.Set("ETag", `"`+a.Hash+`"`)
	if c.QueryParam("v") == a.Hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(c.Response(), c.Request(), a.Name, time.Time{}, bytes.NewReader(a.Body))
	return nil
}
