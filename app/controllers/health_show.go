package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"beacon/app/broker"
	"beacon/app/store"
)

// listenerHealth is a publisher that hears other instances (PostgreSQL's)
// and can say whether it still does.
type listenerHealth interface {
	Health() broker.Health
}

// listenerJSON is the listener's part of /healthz.
type listenerJSON struct {
	Connected        bool    `json:"connected"`
	LastHeardSeconds float64 `json:"last_heard_seconds"`
	Reconnects       int64   `json:"reconnects"`
}

// healthShow answers 200 while the database answers a query (and, on
// SQLite, its file is still the one at its path) and, on PostgreSQL,
// this instance has heard its listening connection within
// broker.DeafAfter; else 503 with what is wrong. A listener that is
// reconnecting but not yet deaf is still 200: it re-reads everything once
// it is back, and a load balancer should not drain it for a blip.
func (ctl *Controller) healthShow(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	body := map[string]any{"status": "ok"}
	status := http.StatusOK
	if lh, ok := ctl.Publisher.(listenerHealth); ok {
		h := lh.Health()
		body["listener"] = listenerJSON{Connected: h.Connected, LastHeardSeconds: h.Since.Seconds(), Reconnects: h.Reconnects}
		if h.Deaf {
			ctl.Log.Warn("health check: listener deaf", "since", h.Since, "connected", h.Connected)
			status, body["status"] = http.StatusServiceUnavailable, "unavailable"
			body["error"] = fmt.Sprintf("listener: nothing heard from PostgreSQL for %.0f s", h.Since.Seconds())
		}
	}
	if err := ctl.Store.Health(ctx); err != nil {
		if clientGone(c.Request(), err) {
			return fmt.Errorf("health check: database: %w", err) // HandleError: nobody to answer
		}
		ctl.Log.Warn("health check: database", "err", err)
		status, body["status"] = http.StatusServiceUnavailable, "unavailable"
		switch {
		case errors.Is(err, store.ErrFileDeleted):
			body["error"] = "database: " + store.ErrFileDeleted.Error()
		case errors.Is(err, store.ErrFileReplaced):
			body["error"] = "database: " + store.ErrFileReplaced.Error()
		default:
			body["error"] = "database: not answering"
		}
	}
	return c.JSON(status, body)
}
