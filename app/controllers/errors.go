package controllers

import (
	"context"
	"database/sql/driver"
	"errors"
	"net/http"
	"strings"
	"syscall"

	"github.com/labstack/echo/v4"

	"beacon/views/pages"
)

// HandleError is Echo's HTTPErrorHandler: every failure is answered here,
// as JSON for the API and HTML for pages, and logged here once when it is
// the server's fault. A request whose client went away is no failure of
// ours: nobody is left to answer, and 10,000 closing tabs must not write
// 10,000 error lines.
func (ctl *Controller) HandleError(err error, c echo.Context) {
	if clientGone(c.Request(), err) {
		ctl.Log.Debug("request ended: the client went away", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		return
	}
	if c.Response().Committed {
		if clientLeft(c.Request(), err) {
			ctl.Log.Debug("request ended: the client went away", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
			return
		}
		ctl.Log.Error("request failed after the response began", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
		return
	}
	status, msg := http.StatusInternalServerError, "Something went wrong on our side. Please try again."
	var he *echo.HTTPError
	if errors.As(err, &he) {
		status = he.Code
		if m, ok := he.Message.(string); ok {
			msg = m
		}
		if he.Internal != nil && status >= 500 {
			err = he.Internal
		}
	}
	if status >= 500 {
		ctl.Log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "status", status, "err", err)
	} else if status == http.StatusNotFound && msg == "Not Found" {
		msg = "There is nothing at this address."
	}

	var werr error
	switch {
	case c.Request().URL.Path == streamPath && status != http.StatusUnauthorized:
		// Any status but 200 makes EventSource give up for good: say
		// "come back shortly" in its own terms instead. A bearer token
		// that is not one (revoked) is 401: only a script sends one, and
		// it must stop.
		werr = ctl.Notifications.Unavailable(c.Response())
	case c.Request().Method == http.MethodHead:
		werr = c.NoContent(status)
	case wantsJSON(c):
		werr = c.JSON(status, map[string]string{"error": msg})
	default:
		werr = render(c, status, pages.Error(ctl.basePage(c, http.StatusText(status)), status, msg))
	}
	switch {
	case werr == nil:
	case clientGone(c.Request(), werr): // the page rendering ended with the request
		ctl.Log.Debug("write error response: the client went away", "path", c.Request().URL.Path, "err", werr)
	default:
		ctl.Log.Warn("write error response", "path", c.Request().URL.Path, "err", werr)
	}
}

// clientGone reports whether err is the request's end because its client
// went away (a closed connection, a reset HTTP/2 stream): the request's
// own context is canceled. A deadline of ours is DeadlineExceeded, and a
// context we canceled ourselves leaves the request's alive: both stay
// failures. A query the cancel cut short on PostgreSQL may come back as
// driver.ErrBadConn rather than context.Canceled (its connection was
// closed under it): with the request's context canceled, that is the
// client's doing too.
func clientGone(r *http.Request, err error) bool {
	return (errors.Is(err, context.Canceled) || errors.Is(err, driver.ErrBadConn)) && errors.Is(r.Context().Err(), context.Canceled)
}

// clientLeft reports whether a write that failed after the response began
// failed because the client left: a reset or a closed socket, or the
// request's context ended with the connection. Such a write's error is the
// socket's, not context.Canceled.
func clientLeft(r *http.Request, err error) bool {
	return clientGone(r, err) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(r.Context().Err(), context.Canceled)
}

func wantsJSON(c echo.Context) bool {
	r := c.Request()
	if strings.HasPrefix(r.URL.Path, "/api/") {
		return true
	}
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}
