package controllers_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"

	"beacon/app/apptest"
	"beacon/app/models"
)

// A client that hangs up mid-request is not the server's failure: the log
// has no ERROR line for it (nor the health check's WARN), whatever the
// route was waiting on when the request's context ended.
func TestClientHangingUpIsNotAServerFailure(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		var log apptest.LogBuffer
		opts.Log = &log
		app, _, _ := apptest.WithAdmin(t, opts)
		visitor := app.Client(t)
		admin := app.Client(t)
		admin.Login(t, apptest.AdminEmail, apptest.AdminPassword)
		paths := []string{"/", "/api/notifications?after=0", "/api/notifications/poll?after=0&timeout=5",
			"/healthz", "/chat", "/chat/lobby/ws", "/notifications/stream"}
		const tries = 10
		for _, who := range []struct {
			name string
			c    *apptest.Client
		}{{"visitor", visitor}, {"signed in", admin}} {
			for _, p := range paths {
				for range tries {
					hangUp(t, who.c, p)
				}
			}
		}
		// A hang-up that comes before the server read the request, or
		// after it answered, is nothing to it: on a fast machine every one
		// above may have been. Hang up on the long poll, which waits,
		// until one came mid-request (at most 200 more).
		for i := 0; i < 200 && !strings.Contains(log.String(), "client went away"); i++ {
			hangUp(t, admin, "/api/notifications/poll?after=0&timeout=5")
		}
		// Close waits for every handler to return, and so for every line
		// it logs.
		app.Server.Close()
		out := log.String()
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "level=ERROR") || strings.Contains(line, "context canceled") && !strings.Contains(line, "level=DEBUG") {
				t.Errorf("a hang-up was logged above DEBUG: %s", line)
			}
		}
		if !strings.Contains(out, "client went away") {
			t.Errorf("no request saw its client go away: the test hung up too late\n%s", out)
		}
	})
}

// hangUp sends a GET for path and cancels it once the request is written,
// as a browser does when its tab closes: the transport closes the
// connection, and the server's request context ends.
func hangUp(t *testing.T, c *apptest.Client, path string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { cancel() }})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL(path), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err == nil {
		// The server answered before the cancel reached it.
		resp.Body.Close()
	} else if !errors.Is(err, context.Canceled) {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// A client that resets its connection while a long answer is being
// written is not the server's failure either: the write fails with a
// reset or a broken pipe after the response began.
func TestClientResettingMidAnswerIsNotAServerFailure(t *testing.T) {
	var log apptest.LogBuffer
	app, _, token := apptest.WithAdmin(t, apptest.Options{Log: &log})
	for i := range 40 {
		// 40 of 5,000 characters: an answer that takes a while to make.
		resp, body := app.PostAPI(t, token, map[string]string{"title": fmt.Sprintf("n%d", i), "body": strings.Repeat("long ", models.MaxBody/5), "level": "info"})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("post: %s %s", resp.Status, body)
		}
	}
	addr := strings.TrimPrefix(app.URL, "http://")
	// A reset that comes before the server read the request, or after
	// its answer was all in the socket's buffers, is nothing to it: reset
	// until one came mid-answer (at least 20 times, at most 500).
	for i := 0; i < 20 || i < 500 && !strings.Contains(log.String(), "client went away"); i++ {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(conn, "GET /api/notifications?after=0&limit=500 HTTP/1.1\r\nHost: beacon\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		// SO_LINGER 0: the close sends a reset, as a crashed or killed
		// client's kernel does.
		if err := conn.(*net.TCPConn).SetLinger(0); err != nil {
			t.Fatal(err)
		}
		conn.Close()
	}
	app.Server.Close()
	out := log.String()
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "level=ERROR") || strings.Contains(line, "level=WARN") {
			t.Errorf("a reset was logged above DEBUG: %s", line)
		}
	}
	if !strings.Contains(out, "client went away") {
		t.Errorf("no request saw its client go away: the test reset too late\n%s", out)
	}
}
