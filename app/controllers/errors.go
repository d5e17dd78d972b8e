package controllers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"beacon/views/pages"
)

// HandleError is Echo's HTTPErrorHandler: every failure is answered here,
// as JSON for the API and HTML for pages, and logged here once when it is
// the server's fault.
func (ctl *Controller) HandleError(err error, c echo.Context) {
	if c.Response().Committed {
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
	case c.Request().URL.Path == streamPath:
		// Any status but 200 makes EventSource give up for good: say
		// "come back shortly" in its own terms instead.
		werr = ctl.Notifications.Unavailable(c.Response())
	case c.Request().Method == http.MethodHead:
		werr = c.NoContent(status)
	case wantsJSON(c):
		werr = c.JSON(status, map[string]string{"error": msg})
	default:
		werr = render(c, status, pages.Error(ctl.basePage(c, http.StatusText(status)), status, msg))
	}
	if werr != nil {
		ctl.Log.Warn("write error response", "path", c.Request().URL.Path, "err", werr)
	}
}

func wantsJSON(c echo.Context) bool {
	r := c.Request()
	if strings.HasPrefix(r.URL.Path, "/api/") {
		return true
	}
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}
