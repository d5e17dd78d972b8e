package controllers

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/broker"
	"beacon/app/store"
)

// readTokenRevoke revokes one of the signed-in person's read tokens (POST
// /settings/tokens/:id/revoke): every instance refuses it at once, and the
// streams it opened end. Someone else's is 404, like a missing one.
func (ctl *Controller) readTokenRevoke(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such token.")
	}
	uid := auth.UserID(c)
	err = broker.SaveThenPublishEach(c.Request().Context(), ctl.Publisher, ctl.Log, func(ctx context.Context) ([]string, error) {
		// The user's topic: their streams ask whether their token lives.
		return []string{broker.TokensTopic, broker.UserTopic(uid)}, ctl.Store.DeleteReadToken(ctx, uid, id)
	})
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such token.")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/settings#tokens")
}
