package controllers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"beacon/app/apptest"
)

const wait = 5 * time.Second

type payload struct {
	ID        int64   `json:"id"`
	Title     string  `json:"title"`
	Body      string  `json:"body"`
	Level     string  `json:"level"`
	Recipient *string `json:"recipient"`
	CreatedAt string  `json:"created_at"`
	HTML      string  `json:"html"`
}

func decode(t *testing.T, ev apptest.Event) payload {
	t.Helper()
	var p payload
	if err := json.Unmarshal([]byte(ev.Data), &p); err != nil {
		t.Fatalf("event data %q: %v", ev.Data, err)
	}
	if strconv.FormatInt(p.ID, 10) != ev.ID {
		t.Fatalf("event id %q but data id %d", ev.ID, p.ID)
	}
	return p
}

// open connects and checks that the stream starts with its retry field.
func open(t *testing.T, c *apptest.Client, lastEventID string) *apptest.Stream {
	t.Helper()
	s := c.OpenStream(t, lastEventID)
	if first := s.NextEvent(t, wait); first.Retry <= 0 || first.Data != "" {
		t.Fatalf("first message %+v, want a retry", first)
	}
	return s
}

// nextNotification returns the next notification event, skipping the
// unread counts a signed-in user's stream also carries.
func nextNotification(t *testing.T, s *apptest.Stream) payload {
	t.Helper()
	for {
		ev := s.NextEvent(t, wait)
		if ev.Event != "unread" {
			return decode(t, ev)
		}
	}
}

func TestStreamHeadersRetryAndLiveNotification(t *testing.T) {
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	s := app.Client(t).OpenStream(t, "")

	h := s.Resp.Header
	if s.Resp.StatusCode != http.StatusOK || h.Get("Content-Type") != "text/event-stream" ||
		h.Get("Cache-Control") != "no-cache" || h.Get("X-Accel-Buffering") != "no" || h.Get("Content-Encoding") != "" {
		t.Fatalf("status %d, headers %v", s.Resp.StatusCode, h)
	}
	first := s.NextEvent(t, wait)
	if first.Retry <= 0 {
		t.Fatalf("first message %+v has no retry", first)
	}

	id := app.Notify(t, token, map[string]string{"title": "Deploy finished", "body": "v1.2 is live", "level": "success"})
	ev := s.NextEvent(t, wait)
	p := decode(t, ev)
	if ev.Event != "notification" || p.ID != id || p.Title != "Deploy finished" || p.Body != "v1.2 is live" ||
		p.Level != "success" || p.Recipient != nil || p.CreatedAt == "" {
		t.Fatalf("got %+v %+v", ev, p)
	}
	if !strings.Contains(p.HTML, `id="notification-`+ev.ID+`"`) || !strings.Contains(p.HTML, "Deploy finished") {
		t.Fatalf("html fragment %q", p.HTML)
	}
}

func TestStreamHeartbeat(t *testing.T) {
	app := apptest.New(t, apptest.Options{Env: map[string]string{"HEARTBEAT_INTERVAL": "20ms"}})
	s := app.Client(t).OpenStream(t, "")
	for {
		ev, ok := s.Next(t, wait)
		if !ok {
			t.Fatal("stream ended before a heartbeat")
		}
		if ev.Comment == "ping" {
			return
		}
	}
}

func TestStreamReplaysMissedNotificationsInOrder(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app, _, token := apptest.WithAdmin(t, opts)
		c := app.Client(t)
		before := app.Notify(t, token, map[string]string{"title": "seen"})

		var want []int64
		for i := range 50 {
			want = append(want, app.Notify(t, token, map[string]string{"title": fmt.Sprintf("missed %d", i)}))
		}
		s := open(t, c, strconv.FormatInt(before, 10))
		for i, id := range want {
			p := decode(t, s.NextEvent(t, wait))
			if p.ID != id || p.Title != fmt.Sprintf("missed %d", i) {
				t.Fatalf("replay %d: got id %d %q, want %d", i, p.ID, p.Title, id)
			}
		}
		live := app.Notify(t, token, map[string]string{"title": "live"})
		if p := decode(t, s.NextEvent(t, wait)); p.ID != live {
			t.Fatalf("after replay got %d, want live %d", p.ID, live)
		}
	})
}
