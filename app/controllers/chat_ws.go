package controllers

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/chat"
	"beacon/app/limits"
)

// chatWS upgrades to the chat WebSocket, only for a signed-in user and a
// page of our own (or an allowed) origin: a session cookie alone must not
// let another site talk in the user's name.
func (ctl *Controller) chatWS(c echo.Context) error {
	room, err := chatRoomParam(c)
	if err != nil {
		return err
	}
	// Origin first: a foreign page gets 403 whoever is signed in.
	if !allowedOrigin(c.Request(), ctl.AllowedOrigins) {
		return echo.NewHTTPError(http.StatusForbidden, "The chat may only be opened from this site.")
	}
	user := auth.CurrentUser(c)
	if user == nil {
		return echo.NewHTTPError(http.StatusUnauthorized, "Sign in to chat.")
	}
	// ?after=ID: a client that reconnects says what it has, and gets what
	// it missed instead of the last messages.
	after, err := intParam(c, "after", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	conn, br, err := chat.Upgrade(&chatUpgrader, c.Response(), c.Request())
	if err != nil {
		// Not a WebSocket handshake: gorilla has answered it with a 4xx.
		return nil
	}
	// Serve returns once the socket is in its room: the hub runs it from
	// then on, without this handler's goroutine.
	ctx := c.Request().Context()
	// The socket outlives this handler: its connection-limit lease ends
	// with the socket, not with the handler.
	lease := limits.Hold(ctx)
	ctl.Chat.Serve(ctx, conn, chat.Request{
		User: *user, Room: room, After: after,
		SignedIn: ctl.sessionCheck(ctx), Ended: lease.Release, Reader: br,
	})
	return nil
}

// sessionCheck reports, each time it is called, whether the session of
// the request behind ctx still exists. It keeps only the session's token:
// a socket holds it for hours, and the request's context (its session
// data, its headers) would be most of an idle socket's memory.
func (ctl *Controller) sessionCheck(ctx context.Context) func() bool {
	token := ctl.Sessions.Token(ctx)
	return func() bool {
		ok, err := ctl.Sessions.ActiveToken(token)
		if err != nil {
			ctl.Log.Warn("check session", "err", err)
			return true
		}
		return ok
	}
}

// chatUpgrader keeps an idle chat socket small. Without a pool, gorilla
// keeps net/http's 4 KiB write buffer for the life of each socket; with
// one, a socket holds a write buffer only while it writes a frame, and an
// idle one holds just its small read buffer (chat.Upgrade's). The pool is
// a cache shared by every socket, as net/http shares its own bufio pools;
// it holds no state of the program.
var chatUpgrader = websocket.Upgrader{
	WriteBufferSize: 4096,
	WriteBufferPool: &sync.Pool{},
	// Checked in chatWS, where the refusal is answered like any other.
	CheckOrigin: func(*http.Request) bool { return true },
}

// allowedOrigin reports whether the request's Origin is its own host or
// one of allowed. gorilla accepts a request without Origin; the contract
// refuses it like a foreign one.
func allowedOrigin(r *http.Request, allowed []string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	origin = strings.TrimRight(origin, "/")
	for _, a := range allowed {
		if strings.EqualFold(origin, a) {
			return true
		}
	}
	return false
}
