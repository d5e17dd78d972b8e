package controllers

import (
	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/channels"
)

// streamPath is where the notification stream is served.
const streamPath = "/notifications/stream"

// streamShow serves the notification stream. It always answers 200: any
// other status makes a browser stop reconnecting for good.
func (ctl *Controller) streamShow(c echo.Context) error {
	last := c.Request().Header.Get("Last-Event-ID")
	if last == "" {
		last = c.QueryParam("last_event_id")
	}
	err := ctl.Notifications.Stream(c.Request().Context(), c.Response(), channels.StreamRequest{
		UserID:      auth.UserID(c),
		LastEventID: last,
	})
	if err != nil && c.Request().Context().Err() == nil {
		ctl.Log.Error("notification stream", "err", err)
	}
	return nil
}
