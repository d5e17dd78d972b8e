package controllers_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"beacon/app/apptest"
)

// trickle sends the headers of a POST to path with a body announced as
// 1,000 bytes, then one byte every 300 ms until the server stops reading.
// It returns the connection, and a channel closed once the trickling ends.
func trickle(t *testing.T, addr, path string) (net.Conn, <-chan struct{}) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n", path, addr)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(300 * time.Millisecond)
		defer tick.Stop()
		for range 1000 {
			if _, err := conn.Write([]byte("a")); err != nil {
				return
			}
			<-tick.C
		}
	}()
	return conn, done
}

// A request body trickled in a byte at a time is cut once the read bound
// is over: the connection closes instead of holding a handler forever.
// The stream, the long poll and the chat socket have no such bound.
func TestTrickledBodyIsCutAfterTheReadBound(t *testing.T) {
	const bound = time.Second
	app := apptest.New(t, apptest.Options{ReadBound: bound})
	addr := strings.TrimPrefix(app.URL, "http://")
	for _, path := range []string{"/login", "/api/notifications"} {
		t.Run(path, func(t *testing.T) {
			start := time.Now()
			conn, trickling := trickle(t, addr, path)
			conn.SetReadDeadline(time.Now().Add(bound + 4*time.Second))
			// Whatever the server answers, it then closes the connection.
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err == nil {
					var one [1]byte
					_, err = conn.Read(one[:])
				}
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("the connection was still open %v after the trickle began", time.Since(start).Round(time.Millisecond))
			}
			if d := time.Since(start); d < bound-100*time.Millisecond {
				t.Fatalf("cut after %v, before the bound of %v", d, bound)
			}
			if resp == nil || resp.StatusCode != http.StatusRequestTimeout {
				t.Fatalf("a cut request answered %v, want 408", resp)
			}
			select {
			case <-trickling:
			case <-time.After(5 * time.Second):
				t.Fatal("the server still reads the trickle")
			}
		})
	}

	// A long poll outlives the bound: it is not cut.
	c := app.Client(t)
	start := time.Now()
	resp, body := c.Get(t, "/api/notifications/poll?after=0&timeout=2")
	if resp.StatusCode != 200 || time.Since(start) < 2*time.Second {
		t.Fatalf("long poll: %d after %v: %s", resp.StatusCode, time.Since(start), body)
	}
}

// A body over 1 MiB is refused before any handler sees it.
func TestOversizedBodyIsRefused(t *testing.T) {
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	big := `{"title":"` + strings.Repeat("x", 1<<20) + `"}`
	if status, msg := rawPost(t, app, token, "application/json", big); status != http.StatusRequestEntityTooLarge || msg == "" {
		t.Fatalf("%d %q, want 413 with a JSON error", status, msg)
	}
}

// A GET on a long-lived route that declares a body is refused at once,
// 400 and the connection closed, whether the body ever arrives or not:
// net/http would otherwise wait for the body before the stream's headers,
// and hold a SIGTERM's exit for the whole grace period.
func TestLongLivedRouteRefusesABody(t *testing.T) {
	app := apptest.New(t, apptest.Options{})
	addr := strings.TrimPrefix(app.URL, "http://")
	for _, path := range []string{"/notifications/stream", "/api/notifications/poll?after=0&timeout=50", "/chat/lobby/ws"} {
		for _, body := range []struct{ name, headers, sent string }{
			{"short", "Content-Length: 100\r\n", "hello"},
			{"chunked", "Transfer-Encoding: chunked\r\n", "5\r\nhello\r\n"},
		} {
			t.Run(path+" "+body.name, func(t *testing.T) {
				conn, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n%s\r\n%s", path, addr, body.headers, body.sent)
				start := time.Now()
				conn.SetReadDeadline(start.Add(3 * time.Second))
				br := bufio.NewReader(conn)
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatalf("no answer after %v: %v", time.Since(start).Round(time.Millisecond), err)
				}
				msg, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(msg), "body") {
					t.Fatalf("answered %d %q, want 400 saying why", resp.StatusCode, msg)
				}
				// The server closes the connection, without waiting for
				// the rest of the body.
				if _, err := br.ReadByte(); err != io.EOF {
					t.Fatalf("after the answer: %v, want the connection closed (EOF) at once", err)
				}
			})
		}
	}
}

// The answers readRequest gives before any handler runs (a malformed or
// oversized body) carry the same security headers as every other answer.
func TestRefusedBodyAnswersCarryTheSecurityHeaders(t *testing.T) {
	app := apptest.New(t, apptest.Options{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(app.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST /login HTTP/1.1\r\nHost: beacon\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("%s, want 400", resp.Status)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("the 400 has no %s", h)
		}
	}
}

// While an instance drains (its hubs stopped, as after SIGTERM), what it
// still answers it answers in full. The drain cuts the reading of request
// bodies by a read deadline in the past; set under net/http's own
// background read of the connection, that deadline canceled the request's
// context, and the handler, whose queries then failed as if the client had
// left, answered nothing: an empty 200 (more than a quarter of these lists,
// and now and then the stream on the same connection, which EventSource
// takes as the end). A request whose body it was reading is told to try
// again.
func TestRequestsWhileDrainingAreAnsweredInFull(t *testing.T) {
	a, _, token := apptest.WithAdmin(t, apptest.Options{})
	a.Stop(t)
	get := func(path string) (*http.Response, string) {
		resp, err := http.Get(a.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	for i := range 100 {
		resp, body := get("/api/notifications")
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || body == "" {
			t.Fatalf("list %d while draining: %d %q %q, want 200 with the list", i, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		if resp, body := get("/notifications/stream"); resp.Header.Get("Content-Type") != "text/event-stream" || !strings.HasPrefix(body, "retry:") {
			t.Fatalf("stream %d while draining: %d %q %q, want a stream that says when to retry", i, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	// Its body arrives with its headers: read in full, unless the cut
	// comes first (408, as for any body cut off).
	resp, body := a.PostAPI(t, token, map[string]string{"title": "late"})
	switch {
	case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "1" && strings.Contains(string(body), "try again"):
	case resp.StatusCode == http.StatusRequestTimeout:
	default:
		t.Fatalf("a post while draining: %d (Retry-After %q) %q, want 503 saying to try again, or 408", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if n := a.LastNotificationID(t); n != 0 {
		t.Errorf("a post refused while draining stored notification %d", n)
	}
}
