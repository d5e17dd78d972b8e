package controllers

import (
	"time"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
)

// Bounds of the long poll's wait, in seconds.
const (
	defaultPollWait = 25
	maxPollWait     = 55
)

// apiNotificationsPoll answers at once when there is something after
// ?after=, else waits up to ?timeout= seconds for it.
func (ctl *Controller) apiNotificationsPoll(c echo.Context) error {
	after, limit, err := listParams(c)
	if err != nil {
		return err
	}
	wait, err := intParam(c, "timeout", defaultPollWait, 0, maxPollWait)
	if err != nil {
		return err
	}
	page, err := ctl.Notifications.Wait(c.Request().Context(), auth.UserID(c), after, int(limit), time.Duration(wait)*time.Second)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return ctl.writeList(c, page)
}
