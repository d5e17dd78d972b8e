package controllers

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// At INFO, ordinary requests and closing streams write nothing; a slow
// ordinary request is a warning; at DEBUG every request has its line.
func TestRequestLogStaysQuietAtInfo(t *testing.T) {
	const slow = 30 * time.Millisecond
	for _, tc := range []struct {
		level slog.Level
		want  []string
		never []string
	}{
		{slog.LevelInfo, []string{`level=WARN msg=request method=GET path=/slow`}, []string{"path=/fast", "path=" + streamPath}},
		{slog.LevelDebug, []string{"path=/fast", "path=" + streamPath, `level=WARN msg=request method=GET path=/slow`}, nil},
	} {
		var buf lockedBuffer
		e := echo.New()
		e.Use(requestLog(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tc.level})), slow))
		e.GET("/fast", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
		// Slowness is what is tested here: the handler takes longer than slow.
		hold := func(c echo.Context) error { time.Sleep(2 * slow); return c.NoContent(http.StatusNoContent) }
		e.GET("/slow", hold)
		e.GET(streamPath, hold)
		srv := httptest.NewServer(e)
		for _, p := range []string{"/fast", "/slow", streamPath} {
			resp, err := http.Get(srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		srv.Close()
		for _, w := range tc.want {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("at %v the log lacks %q:\n%s", tc.level, w, buf.String())
			}
		}
		for _, n := range tc.never {
			if strings.Contains(buf.String(), n) {
				t.Errorf("at %v the log has %q:\n%s", tc.level, n, buf.String())
			}
		}
	}
}
