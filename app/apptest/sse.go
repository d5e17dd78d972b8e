package apptest

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Event is one Server-Sent Events message as a browser would dispatch it,
// or a comment line.
type Event struct {
	ID      string
	Event   string
	Data    string
	Retry   int    // -1 when the message set none
	Comment string // for ": ping" lines; the other fields are then empty
}

// Stream reads a text/event-stream response, parsing it the way the
// EventSource specification says.
type Stream struct {
	Resp   *http.Response
	cancel context.CancelFunc
	events chan Event
	errc   chan error
}

// OpenStream connects to the notification stream. lastEventID, when not
// empty, is sent as the Last-Event-ID header.
func (c *Client) OpenStream(t testing.TB, lastEventID string) *Stream {
	return c.OpenStreamURL(t, "/notifications/stream", lastEventID)
}

// OpenStreamURL connects to path as an EventSource would.
func (c *Client) OpenStreamURL(t testing.TB, path, lastEventID string) *Stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.app.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := c.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	s := &Stream{Resp: resp, cancel: cancel, events: make(chan Event, 4096), errc: make(chan error, 1)}
	if resp.StatusCode == http.StatusOK {
		go s.read()
	} else {
		// No stream: the body is the answer's message, left for the test
		// to read (a reader here would race it for the bytes).
		close(s.events)
	}
	t.Cleanup(s.Close)
	return s
}

// Close disconnects.
func (s *Stream) Close() {
	s.cancel()
	s.Resp.Body.Close()
}

func (s *Stream) read() {
	defer close(s.events)
	sc := bufio.NewScanner(s.Resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	ev := Event{Retry: -1}
	var data []string
	dirty := false
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if dirty {
				ev.Data = strings.Join(data, "\n")
				s.events <- ev
			}
			ev, data, dirty = Event{Retry: -1}, nil, false
			continue
		}
		if strings.HasPrefix(line, ":") {
			s.events <- Event{Retry: -1, Comment: strings.TrimSpace(line[1:])}
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		dirty = true
		switch field {
		case "id":
			ev.ID = value
		case "event":
			ev.Event = value
		case "data":
			data = append(data, value)
		case "retry":
			if n, err := strconv.Atoi(value); err == nil {
				ev.Retry = n
			} else {
				s.errc <- fmt.Errorf("retry field %q is not bare digits", value)
			}
		}
	}
	if err := sc.Err(); err != nil {
		select {
		case s.errc <- err:
		default:
		}
	}
}

// Next returns the next event or comment, failing the test after timeout.
// ok is false when the stream ended.
func (s *Stream) Next(t testing.TB, timeout time.Duration) (ev Event, ok bool) {
	t.Helper()
	select {
	case ev, ok = <-s.events:
		return ev, ok
	case err := <-s.errc:
		t.Fatalf("stream: %v", err)
	case <-time.After(timeout):
		t.Fatalf("no event within %v", timeout)
	}
	return ev, false
}

// NextEvent skips comments and returns the next message, failing the test
// when the stream ends or nothing arrives within timeout.
func (s *Stream) NextEvent(t testing.TB, timeout time.Duration) Event {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ev, ok := s.Next(t, time.Until(deadline))
		if !ok {
			t.Fatal("stream ended")
		}
		if ev.Comment == "" {
			return ev
		}
	}
}

// Ended waits for the server to end the stream and reports whether it did
// within timeout.
func (s *Stream) Ended(timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		select {
		case _, ok := <-s.events:
			if !ok {
				return true
			}
		case <-deadline:
			return false
		}
	}
}
