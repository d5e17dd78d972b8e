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

// notificationRead marks one notification read (POST
// /notifications/:id/read), or with read false unread (/unread). Someone
// else's is 404, like a missing one, so that its existence is not
// revealed.
func (ctl *Controller) notificationRead(read bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil || id <= 0 {
			return echo.NewHTTPError(http.StatusNotFound, "There is no such notification.")
		}
		// Read before marking: a bad value must not answer 400 for a
		// change that was made.
		through, err := throughParam(c)
		if err != nil {
			return err
		}
		uid := auth.UserID(c)
		err = broker.SaveThenPublish(c.Request().Context(), ctl.Publisher, ctl.Log, broker.UserTopic(uid), func(ctx context.Context) error {
			if read {
				return ctl.Store.MarkRead(ctx, uid, id)
			}
			return ctl.Store.MarkUnread(ctx, uid, id)
		})
		if errors.Is(err, store.ErrNotFound) {
			return echo.NewHTTPError(http.StatusNotFound, "There is no such notification.")
		}
		if err != nil {
			return err
		}
		return ctl.readDone(c, uid, through)
	}
}
