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

// tokenRevoke revokes an API token; every instance refuses it at once,
// and a stream it opened ends.
func (ctl *Controller) tokenRevoke(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.NewHTTPError(http.StatusNotFound, "No such token.")
	}
	err = broker.SaveThenPublishEach(c.Request().Context(), ctl.Publisher, ctl.Log, func(ctx context.Context) ([]string, error) {
		t, err := ctl.Store.DeleteAPIToken(ctx, id)
		return []string{broker.TokensTopic, broker.UserTopic(t.UserID)}, err
	})
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "No such token.")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/tokens")
}
