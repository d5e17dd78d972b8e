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
