package controllers

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"beacon/app/broker"
	"beacon/app/store"
)

// tokenRevoke revokes an API token; every instance refuses it at once.
func (ctl *Controller) tokenRevoke(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.NewHTTPError(http.StatusNotFound, "No such token.")
	}
	err = broker.SaveThenPublish(c.Request().Context(), ctl.Publisher, ctl.Log, broker.TokensTopic, func(ctx context.Context) error {
		return ctl.Store.DeleteAPIToken(ctx, id)
	})
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "No such token.")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/tokens")
}
