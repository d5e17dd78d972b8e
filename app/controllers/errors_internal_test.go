package controllers

import (
	"errors"
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
