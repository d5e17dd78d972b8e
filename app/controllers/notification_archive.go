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

// notificationArchive archives one notification for the signed-in user
// (POST /notifications/:id/archive), or with archived false takes it out
// of their archive (/unarchive). Someone else's is 404, like a missing one.
func (ctl *Controller) notificationArchive(archived bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil || id <= 0 {
			return echo.NewHTTPError(http.StatusNotFound, "There is no such notification.")
		}
		uid := auth.UserID(c)
		err = broker.SaveThenPublish(c.Request().Context(), ctl.Publisher, ctl.Log, broker.UserTopic(uid), func(ctx context.Context) error {
			return ctl.Store.SetArchived(ctx, uid, id, archived)
		})
		if errors.Is(err, store.ErrNotFound) {
			return echo.NewHTTPError(http.StatusNotFound, "There is no such notification.")
		}
		if err != nil {
			return err
		}
		if wantsJSON(c) {
			return c.JSON(http.StatusOK, map[string]any{"id": id, "archived": archived})
		}
		if archived {
			return c.Redirect(http.StatusSeeOther, "/")
		}
		return c.Redirect(http.StatusSeeOther, "/?view=archived")
	}
}
