package controllers

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/limits"
	"beacon/app/store"
	"beacon/app/stream"
)

// streamPath is where the notification stream is served.
const streamPath = "/notifications/stream"

// streamShow serves the notification stream. It answers 200 to every
// request it can serve: any other status makes a browser stop reconnecting
// for good. A `fields` value it does not know is the one 400: only a
// program sends one, the same request could never succeed, and a typo
// that silently got every field would cost every delivery its bytes.
func (ctl *Controller) streamShow(c echo.Context) error {
	fields, err := stream.ParseFields(c.QueryParam("fields"))
	if err != nil {
		// Answered here, not by HandleError, which answers every other
		// failure on the stream with "come back shortly".
		return answer(c, http.StatusBadRequest, err.Error())
	}
	last := c.Request().Header.Get("Last-Event-ID")
	if last == "" {
		last = c.QueryParam("last_event_id")
	}
	ctx := c.Request().Context()
	// The stream ends when its session does, or, for a script that came
	// with a token, when the token is revoked.
	signedIn := func() bool { return ctl.sessionActive(ctx) }
	if hash := auth.TokenHash(c); hash != "" {
		signedIn = func() bool { return ctl.tokenActive(ctx, hash) }
	}
	err = ctl.Notifications.Stream(ctx, c.Response(), stream.Request{
		UserID:      auth.UserID(c),
		LastEventID: last,
		StateAfter:  c.QueryParam("state_after"),
		Fields:      fields,
		SignedIn:    signedIn,
		Request:     c.Request(),
		// A taken-over stream outlives this handler: its connection-limit
		// lease ends with the connection.
		TakenOver: func() func() { return limits.Hold(ctx).Release },
	})
	if err != nil && c.Request().Context().Err() == nil {
		ctl.Log.Error("notification stream", "err", err)
	}
	return nil
}

// sessionActive reports whether the session of the request behind ctx
// still exists. A database error counts as yes: it is the database that
// failed, not the user.
func (ctl *Controller) sessionActive(ctx context.Context) bool {
	ok, err := ctl.Sessions.Active(ctx)
	if err != nil {
		ctl.Log.Warn("check session", "err", err)
		return true
	}
	return ok
}

// tokenActive reports whether the bearer token with this hash still
// exists. A database error counts as yes, as in sessionActive. It asks in
// a context of its own: a stream the hub took over outlives its request.
func (ctl *Controller) tokenActive(ctx context.Context, hash string) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, err := ctl.Store.UserByTokenHash(ctx, hash)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		ctl.Log.Warn("check bearer token", "err", err)
		return true
	}
	return err == nil
}
