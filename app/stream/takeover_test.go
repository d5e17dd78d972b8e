package stream_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"beacon/app/broker"
	"beacon/app/models"
	"beacon/app/stream"
)

// serveStreams serves r's hub over a real HTTP/1.1 server, as the
// controller does. onConn, when set, sees each accepted connection; held
// counts the streams taken over and not yet ended.
func serveStreams(t *testing.T, r *rig, onConn func(net.Conn), held *atomic.Int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		sr := stream.Request{LastEventID: req.Header.Get("Last-Event-ID"), Request: req}
		if held != nil {
			sr.TakenOver = func() func() {
				held.Add(1)
				return func() { held.Add(-1) }
			}
		}
		if err := r.hub.Stream(req.Context(), w, sr); err != nil {
			t.Errorf("stream: %v", err)
		}
	}))
	if onConn != nil {
		srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
			if s == http.StateNew {
				onConn(c)
			}
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// sseClient reads a stream's ids and comments off a raw connection.
type sseClient struct {
	resp *http.Response
	r    *bufio.Reader
}

func openSSE(t *testing.T, url, lastEventID string) *sseClient {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	c := &sseClient{resp: resp, r: bufio.NewReader(resp.Body)}
	if line, err := c.r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "retry: ") {
		t.Fatalf("first line %q, %v", line, err)
	}
	return c
}

// nextID returns the next event's id, skipping heartbeats; it fails the
// test when the stream ends or after 5 s.
func (c *sseClient) nextID(t *testing.T) int64 {
	t.Helper()
	ids := make(chan int64, 1)
	go func() {
		defer close(ids)
		for {
			line, err := c.r.ReadString('\n')
			if err != nil {
				return
			}
			if v, ok := strings.CutPrefix(line, "id: "); ok {
				id, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				ids <- id
				return
			}
		}
	}()
	select {
	case id, ok := <-ids:
		if !ok {
			t.Fatal("stream ended")
		}
		return id
	case <-time.After(5 * time.Second):
		c.resp.Body.Close()
		<-ids
		t.Fatal("no event within 5s")
		return 0
	}
}

// goroutinesIn counts the goroutines whose stack passes through fn.
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, fn) {
			n++
		}
	}
	return n
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s after 5s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Over HTTP/1.1 the hub takes a stream's connection over after its replay:
// the stream keeps no goroutine, still gets every notification once and in
// order, and ends when the hub stops.
func TestTakenOverStreamsKeepNoGoroutineAndEndAtShutdown(t *testing.T) {
	r := newRig(t, stream.Options{Heartbeat: time.Hour})
	var held atomic.Int64
	srv := serveStreams(t, r, nil, &held)
	missed := r.post(t, "before")
	const n = 20
	var streams []*sseClient
	for i := range n {
		last := ""
		if i%2 == 0 {
			last = strconv.FormatInt(missed-1, 10)
		}
		s := openSSE(t, srv.URL, last)
		if h := s.resp.Header; h.Get("Content-Type") != "text/event-stream" || s.resp.TransferEncoding != nil || !s.resp.Close {
			t.Fatalf("headers %v, transfer encoding %v, close %v", h, s.resp.TransferEncoding, s.resp.Close)
		}
		if last != "" {
			if got := s.nextID(t); got != missed {
				t.Fatalf("replay sent %d, want %d", got, missed)
			}
		}
		streams = append(streams, s)
	}
	waitUntil(t, "taken over", func() bool {
		return r.hub.Subscribers() == n && goroutinesIn("(*Hub).Stream(") == 0 && held.Load() == n
	})
	for range 3 {
		id := r.post(t, "live")
		for i, s := range streams {
			if got := s.nextID(t); got != id {
				t.Fatalf("stream %d got %d, want %d", i, got, id)
			}
		}
	}
	r.stop(t)
	for i, s := range streams {
		if _, err := io.Copy(io.Discard, s.r); err != nil {
			t.Fatalf("stream %d after shutdown: %v", i, err)
		}
	}
	if n := held.Load(); n != 0 {
		t.Fatalf("%d streams ended without their release", n)
	}
}

// A taken-over stream whose client stops reading is let go once its socket
// is full and its queue fills, and a reader beside it misses nothing.
func TestTakenOverStreamThatDoesNotReadIsCutOff(t *testing.T) {
	r := newRig(t, stream.Options{QueueSize: 4, Heartbeat: time.Hour})
	srv := serveStreams(t, r, func(c net.Conn) { _ = c.(*net.TCPConn).SetWriteBuffer(4096) }, nil)
	stalled := openSSE(t, srv.URL, "") // read no further
	reader := openSSE(t, srv.URL, "")
	waitUntil(t, "taken over", func() bool { return goroutinesIn("(*Hub).Stream(") == 0 })

	body := strings.Repeat("x", 2000)
	for i := 0; r.hub.Subscribers() > 1; i++ {
		if i == 2000 {
			t.Fatal("the stream that does not read was not cut off after 2000 notifications")
		}
		n := &models.Notification{Title: fmt.Sprint("n", i), Body: body, Level: "info"}
		if _, err := r.store.CreateOrReplaceNotification(context.Background(), n); err != nil {
			t.Fatal(err)
		}
		if err := r.broker.Publish(context.Background(), broker.NotificationsTopic); err != nil {
			t.Fatal(err)
		}
		if got := reader.nextID(t); got != n.ID {
			t.Fatalf("reader got %d, want %d", got, n.ID)
		}
	}
	// What reached its socket still arrives, then the stream ends.
	if _, err := io.Copy(io.Discard, stalled.r); err != nil {
		t.Fatalf("cut-off stream: %v", err)
	}
}

// A burst of more changes than a stream may have pending, all committed
// before the hub looks, is fanned out in one tight loop, faster than any
// writer writes: a stream that reads them all is not cut off for it. That
// holds for a look of thousands (64 batches of 100 posted at once), past
// any fixed allowance.
func TestTakenOverStreamGetsABurstLargerThanItsQueue(t *testing.T) {
	r := newRig(t, stream.Options{QueueSize: 4, Heartbeat: time.Hour})
	srv := serveStreams(t, r, nil, nil)
	reader := openSSE(t, srv.URL, "")
	waitUntil(t, "taken over", func() bool { return goroutinesIn("(*Hub).Stream(") == 0 })

	var ids []int64
	for b := range 30 {
		ns := make([]*models.Notification, 100)
		for i := range ns {
			ns[i] = &models.Notification{Title: fmt.Sprint("n", b, "-", i), Level: "info"}
		}
		if _, err := r.store.CreateOrReplaceNotifications(context.Background(), ns); err != nil {
			t.Fatal(err)
		}
		for _, n := range ns {
			ids = append(ids, n.ID)
		}
	}
	if err := r.broker.Publish(context.Background(), broker.NotificationsTopic); err != nil {
		t.Fatal(err)
	}
	for _, want := range ids {
		if got := reader.nextID(t); got != want {
			t.Fatalf("got %d, want %d", got, want)
		}
	}
	if n := r.hub.Subscribers(); n != 1 {
		t.Fatalf("%d subscribers after the burst, want 1", n)
	}
}
