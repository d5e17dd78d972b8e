package controllers_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"beacon/app/apptest"
	"beacon/app/pgtest"
)

// tryStream opens a stream and reports its status; a stream that opened
// is closed when the test ends, or before by the caller.
func tryStream(t *testing.T, c *apptest.Client) (int, *apptest.Stream) {
	t.Helper()
	s := c.OpenStream(t, "")
	return s.Resp.StatusCode, s
}

// refused checks that resp is a 429 with Retry-After and a message.
func refused(t *testing.T, what string, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "Too many") {
		t.Fatalf("%s: %d Retry-After %q body %q; want 429 with Retry-After and a message", what, resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
}

// holdPoll starts a long poll that waits until the app stops.
func holdPoll(t *testing.T, c *apptest.Client) {
	t.Helper()
	go func() {
		resp, err := c.Client.Get(c.URL("/api/notifications/poll?after=0&timeout=55"))
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
}

// A visitor's address holds at most 200 streams and long polls (the
// default): the 201st is 429, and closing one lets one more in.
func TestConnectionLimitPerAddress(t *testing.T) {
	app := apptest.New(t, apptest.Options{})
	visitor := app.Client(t)
	holdPoll(t, visitor)
	var streams []*apptest.Stream
	for i := range 199 {
		status, s := tryStream(t, visitor)
		if status != http.StatusOK {
			t.Fatalf("stream %d: %d", i+2, status)
		}
		streams = append(streams, s)
	}
	waitFor(t, func() bool { return app.Subscribers() == 200 })

	s := visitor.OpenStream(t, "")
	b, _ := io.ReadAll(s.Resp.Body)
	refused(t, "the 201st stream", s.Resp, string(b))
	resp, body := visitor.Get(t, "/api/notifications/poll?after=0&timeout=1")
	refused(t, "a long poll past the limit", resp, body)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || !strings.Contains(body, `"error"`) {
		t.Fatalf("the poll's 429 is not the API's JSON error: %q %s", resp.Header.Get("Content-Type"), body)
	}
	// Other routes are not limited.
	if resp, _ := visitor.Get(t, "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("the feed at the limit: %d", resp.StatusCode)
	}

	streams[0].Close()
	waitFor(t, func() bool { return app.Subscribers() == 199 })
	if status, _ := tryStream(t, visitor); status != http.StatusOK {
		t.Fatalf("after one closed: %d", status)
	}
}

// A signed-in user's streams, long polls and chat sockets count together
// against STREAM_LIMIT_USER, whatever the address; visitors from the same
// address and other users are not affected.
func TestConnectionLimitPerUser(t *testing.T) {
	app := apptest.New(t, apptest.Options{Env: map[string]string{"STREAM_LIMIT_USER": "3"}})
	app.CreateUser(t, "Bob", "bob@example.com", "password bob", false)
	app.CreateUser(t, "Cy", "cy@example.com", "password cy", false)
	bob := app.Client(t)
	bob.Login(t, "bob@example.com", "password bob")

	open(t, bob, "")
	holdPoll(t, bob)
	waitFor(t, func() bool { return app.Subscribers() == 2 })
	chat := bob.DialChat(t, "general")

	resp, body := bob.Get(t, "/api/notifications/poll?after=0&timeout=1")
	refused(t, "bob's 4th connection (a long poll)", resp, body)
	_, r, err := bob.DialChatRaw("/chat/general/ws", http.Header{"Origin": {app.Origin()}}, nil)
	if err == nil || r == nil || r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("bob's 4th connection (a chat socket): %v %v", r, err)
	}
	if status, _ := tryStream(t, bob); status != http.StatusTooManyRequests {
		t.Fatalf("bob's 4th connection (a stream): %d", status)
	}

	cy := app.Client(t)
	cy.Login(t, "cy@example.com", "password cy")
	if status, _ := tryStream(t, cy); status != http.StatusOK {
		t.Fatalf("another user: %d", status)
	}
	if status, _ := tryStream(t, app.Client(t)); status != http.StatusOK {
		t.Fatalf("a visitor on the same address: %d", status)
	}

	chat.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, s := tryStream(t, bob)
		if status == http.StatusOK {
			break
		}
		s.Close()
		if time.Now().After(deadline) {
			t.Fatalf("bob still refused 5s after closing his chat socket: %d", status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Two instances on one PostgreSQL count a visitor's connections together:
// what one holds, the other refuses once it has heard of it, and admits
// again once they are closed.
func TestConnectionLimitAcrossInstances(t *testing.T) {
	url := pgtest.URL(t)
	if url == "" {
		t.Skip("PostgreSQL not reachable: the cross-instance limit is not tested")
	}
	// Counts expire 3 refreshes after they were written: at 50 ms a busy
	// machine let A's expire between its writes, and B admitted too many.
	opts := apptest.Options{DatabaseURL: url, LimitRefresh: 250 * time.Millisecond, Env: map[string]string{"STREAM_LIMIT_ADDRESS": "2"}}
	a, b := apptest.New(t, opts), apptest.New(t, opts)
	onA := []*apptest.Stream{open(t, a.Client(t), ""), open(t, a.Client(t), "")}
	if status, _ := tryStream(t, a.Client(t)); status != http.StatusTooManyRequests {
		t.Fatalf("A's own 3rd stream: %d", status)
	}

	// until retries opening a stream on B until it answers want.
	until := func(want int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			status, s := tryStream(t, b.Client(t))
			if status == want {
				return
			}
			s.Close()
			waitFor(t, func() bool { return b.Subscribers() == 0 })
			if time.Now().After(deadline) {
				t.Fatalf("B still answers %d after 10s, want %d", status, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	until(http.StatusTooManyRequests)
	for _, s := range onA {
		s.Close()
	}
	until(http.StatusOK)

	// The one B holds now counts on A in turn: A admits one more, and
	// refuses a second once it has heard of B's.
	open(t, a.Client(t), "")
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, s := tryStream(t, a.Client(t))
		if status == http.StatusTooManyRequests {
			break
		}
		s.Close()
		waitFor(t, func() bool { return a.Subscribers() == 1 })
		if time.Now().After(deadline) {
			t.Fatal("A still admits a 2nd stream 10s after B took one")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
