package controllers

import (
	"github.com/labstack/echo/v4"

	"beacon/app/auth"
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
	if err := ctl.Store.MarkAllRead(c.Request().Context(), uid, through); err != nil {
		return err
	}
	return ctl.readDone(c, uid, through)
}
