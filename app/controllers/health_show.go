package controllers

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// healthShow answers 200 while the database does, else 503.
func (ctl *Controller) healthShow(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := ctl.Store.Ping(ctx); err != nil {
		ctl.Log.Warn("health check: database", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}
