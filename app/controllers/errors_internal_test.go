package controllers

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// A failure of our own is a 500 page in the layout that says sorry and
// shows nothing of the cause.
func TestServerErrorPageRendersInTheLayout(t *testing.T) {
	ctl := &Controller{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	rec := httptest.NewRecorder()
	c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)
	ctl.HandleError(errors.New("database on fire"), c)
	body := rec.Body.String()
	if rec.Code != http.StatusInternalServerError || !strings.Contains(body, `<header class="site-header">`) ||
		!strings.Contains(body, "500 Internal Server Error") || !strings.Contains(body, "Something went wrong on our side.") ||
		strings.Contains(body, "on fire") {
		t.Fatalf("500 page: %d\n%s", rec.Code, body)
	}
}

// Only a request whose own context was canceled, its client gone, is
// spared the ERROR line and the answer; a failure of ours stays an ERROR,
// even one that wraps context.Canceled or a deadline.
func TestHandleErrorLogsServerFailuresOnly(t *testing.T) {
	gone, hangUp := context.WithCancel(context.Background())
	hangUp()
	late, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		err    error
		level  string
		status int
	}{
		{"a failure of ours", context.Background(), errors.New("database on fire"), "level=ERROR", http.StatusInternalServerError},
		{"a context we canceled", context.Background(), fmt.Errorf("load user: %w", context.Canceled), "level=ERROR", http.StatusInternalServerError},
		{"a deadline of ours", late, fmt.Errorf("load user: %w", context.DeadlineExceeded), "level=ERROR", http.StatusInternalServerError},
		{"the client went away", gone, fmt.Errorf("load user: %w", context.Canceled), "level=DEBUG", 0},
		// pgx under database/sql, its query cut short by the cancel.
		{"the client went away mid-query", gone, fmt.Errorf("last position: %w", driver.ErrBadConn), "level=DEBUG", 0},
		{"a bad connection of ours", context.Background(), fmt.Errorf("last position: %w", driver.ErrBadConn), "level=ERROR", http.StatusInternalServerError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf lockedBuffer
			ctl := &Controller{Log: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
			rec := httptest.NewRecorder()
			c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/api/notifications", nil).WithContext(tc.ctx), rec)
			ctl.HandleError(tc.err, c)
			if log := buf.String(); strings.Count(log, "\n") != 1 || !strings.Contains(log, tc.level) {
				t.Errorf("log %q, want one line at %s", log, tc.level)
			}
			if written := c.Response().Committed; written != (tc.status != 0) || written && rec.Code != tc.status {
				t.Errorf("answered: %v, %d; want %d", written, rec.Code, tc.status)
			}
		})
	}
}
