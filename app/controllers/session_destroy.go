package controllers

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/broker"
)

// sessionDestroy signs the user out.
func (ctl *Controller) sessionDestroy(c echo.Context) error {
	ctx := c.Request().Context()
	logout := func(context.Context) error { return ctl.Sessions.Logout(c) }
	var err error
	// The user's open streams check their sessions: the one just ended
	// must stop receiving this user's notifications.
	if uid := auth.UserID(c); uid != 0 {
		err = broker.SaveThenPublish(ctx, ctl.Publisher, ctl.Log, broker.UserTopic(uid), logout)
	} else {
		err = logout(ctx)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/")
}
