package controllers

import (
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// slowRequest is how long a request that is not long-lived by design may
// take before its line is a warning.
const slowRequest = 2 * time.Second

// requestLog writes one line per request at DEBUG, and at WARN for one
// slower than slow. At INFO the log carries what an operator acts on
// (start, stop, failures, slow answers): the traffic itself is in
// /metrics, and 10,000 browsers closing their streams must not write
// 10,000 lines. Failures were logged by HandleError already, with their
// cause, at WARN or ERROR.
func requestLog(log *slog.Logger, slow time.Duration) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogMethod: true, LogURIPath: true, LogStatus: true, LogLatency: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelDebug
			if v.Latency > slow && !longLived(c) {
				level = slog.LevelWarn
			}
			log.Log(c.Request().Context(), level, "request", "method", v.Method, "path", v.URIPath, "status", v.Status,
				"duration", v.Latency.Round(time.Microsecond))
			return nil
		},
	})
}

// longLived reports whether the request is one that stays open by design:
// the notification stream, the long poll and the chat WebSocket.
func longLived(c echo.Context) bool {
	switch c.Path() {
	case streamPath, pollPath, chatWSPath:
		return true
	}
	return false
}
