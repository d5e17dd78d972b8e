package controllers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// pushKeyShow answers the VAPID public key a browser subscribes with
// (GET /push/key). It is the same on every instance; no-cache, so that a
// new pair (a deploy that set WEBPUSH_*_KEY) reaches pages at once.
func (ctl *Controller) pushKeyShow(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.JSON(http.StatusOK, map[string]string{"public_key": ctl.PushKey})
}
