package controllers

import (
	"context"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/broker"
)

// notificationsReadAll marks every notification read up to the form's
// `through`: the stream position at which the newest one the page showed
// became visible, so that one that arrived since the user last looked
// stays unread. Without it, everything so far is marked.
func (ctl *Controller) notificationsReadAll(c echo.Context) error {
	through, err := throughParam(c)
	if err != nil {
		return err
	}
	uid := auth.UserID(c)
	err = broker.SaveThenPublish(c.Request().Context(), ctl.Publisher, ctl.Log, broker.UserTopic(uid), func(ctx context.Context) error {
		return ctl.Store.MarkAllRead(ctx, uid, through)
	})
	if err != nil {
		return err
	}
	return ctl.readDone(c, uid, through)
}
