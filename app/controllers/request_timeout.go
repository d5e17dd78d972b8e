package controllers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// DefaultReadBound is how long a request may take to send itself, headers
// and body, on every route but the long-lived ones.
const DefaultReadBound = 30 * time.Second

// maxRequestBody is the largest body any route takes.
const maxRequestBody = 1 << 20

// readRequest reads the whole body of every request but the stream's, the
// long poll's and the chat socket's (which may have none: refuseBody)
// before its handler runs, within d of the request's start
// (http.Server.ReadTimeout would cut the long-lived ones too). A body
// trickled in past d, or still arriving when draining begins (shutdown),
// is answered 408 and its connection closed, so that no client can hold a
// handler, or the exit, for longer; one that arrived in full just then,
// 503 (try again), with nothing done. Reading first makes those answers
// the same on every route, whatever its handler does with a failed read.
func readRequest(d time.Duration, draining context.Context) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			// The server's own writer: no middleware has wrapped it yet.
			rc := http.NewResponseController(c.Response().Writer)
			if longLived(c) {
				if req.ContentLength != 0 {
					return refuseBody(c, rc)
				}
				return next(c)
			}
			if req.ContentLength == 0 {
				// Nothing to read. And no deadline to set: net/http is
				// already reading the connection in the background (to
				// see the client leave), and a deadline that passed
				// under that read, even for a moment, would cancel the
				// request's context: its handler's queries would fail as
				// if the client had left, and it would answer nothing (an
				// empty 200).
				return next(c)
			}
			if err := rc.SetReadDeadline(time.Now().Add(d)); err != nil {
				// A connection without deadlines (HTTP/2, a test
				// recorder): leave the body to the handler.
				return next(c)
			}
			cut := make(chan struct{})
			stop := context.AfterFunc(draining, func() {
				_ = rc.SetReadDeadline(time.Now())
				close(cut)
			})
			body, err := io.ReadAll(io.LimitReader(req.Body, maxRequestBody+1))
			drained := !stop()
			if drained {
				// The cut runs in a goroutine of its own: once the body
				// was read in full, net/http reads the connection in the
				// background, and the cut may have ended that read and
				// with it the request's context. Nothing was done yet:
				// the client tries again, elsewhere.
				<-cut
			}
			var ne net.Error
			switch {
			case drained && err == nil:
				c.Response().Header().Set(echo.HeaderConnection, "close")
				c.Response().Header().Set("Retry-After", "1")
				return answer(c, http.StatusServiceUnavailable, "The server is shutting down: please try again.")
			case errors.As(err, &ne) && ne.Timeout():
				c.Response().Header().Set(echo.HeaderConnection, "close")
				return answer(c, http.StatusRequestTimeout, fmt.Sprintf("The request took longer than %v to send.", d))
			case err != nil:
				return echo.NewHTTPError(http.StatusBadRequest, "The request's body could not be read.").SetInternal(err)
			case len(body) > maxRequestBody:
				c.Response().Header().Set(echo.HeaderConnection, "close")
				return answer(c, http.StatusRequestEntityTooLarge, "The request's body is larger than 1 MiB.")
			}
			// Read in full: the time the handler takes is not bounded here.
			_ = rc.SetReadDeadline(time.Time{})
			req.Body = io.NopCloser(bytes.NewReader(body))
			return next(c)
		}
	}
}

// refuseBody answers a long-lived route's request that declares a body,
// which no browser sends and none of them reads. Left unread, net/http
// would wait for the whole body before the stream's headers (and a SIGTERM
// for it); read, it would bind the stream to a read bound. So: 400 at
// once, without waiting for a byte of it. Connection: close stops net/http
// reading the body before the answer, and the past read deadline stops its
// Close reading the rest after.
func refuseBody(c echo.Context, rc *http.ResponseController) error {
	_ = rc.SetReadDeadline(time.Now()) // HTTP/2 has none, and never waits so
	c.Response().Header().Set(echo.HeaderConnection, "close")
	return answer(c, http.StatusBadRequest, "A GET on this address takes no body.")
}
