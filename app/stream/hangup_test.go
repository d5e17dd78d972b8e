package stream_test

import (
	"bufio"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"beacon/app/stream"
)

// rawStream is a stream opened on a bare TCP connection, so that the
// client can send bytes a browser would not, and hang up at will.
type rawStream struct {
	conn net.Conn
	r    *bufio.Reader
}

func openRawStream(t *testing.T, addr string) *rawStream {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.Write([]byte("GET /notifications/stream HTTP/1.1\r\nHost: beacon\r\nAccept: text/event-stream\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	s := &rawStream{conn: conn, r: bufio.NewReader(conn)}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream's head: %v", err)
		}
		if strings.HasPrefix(line, "retry: ") {
			return s
		}
	}
}

// nextID reads up to the next event's id line.
func (s *rawStream) nextID(t *testing.T) string {
	t.Helper()
	_ = s.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended: %v", err)
		}
		if v, ok := strings.CutPrefix(line, "id: "); ok {
			return strings.TrimSpace(v)
		}
	}
}

// A taken-over stream whose client hangs up is let go, with its lease: on
// Linux as the kernel reports it, elsewhere (and for what the watch cannot
// take) by the sweep. A few bytes a client sends are read and dropped, not
// taken for a hang-up, and its hang-up is still seen after them; a client
// that sends more than a few KiB is let go.
func TestTakenOverStreamWhoseClientHangsUpIsLetGo(t *testing.T) {
	kinds := map[string]stream.Options{"swept": stream.SweepOnly(stream.Options{Heartbeat: time.Hour})}
	if runtime.GOOS == "linux" {
		kinds["watched"] = stream.Options{Heartbeat: time.Hour}
	}
	for kind, opts := range kinds {
		t.Run(kind, func(t *testing.T) {
			r := newRig(t, opts)
			var held atomic.Int64
			srv := serveStreams(t, r, nil, &held)
			addr := strings.TrimPrefix(srv.URL, "http://")
			a, b := openRawStream(t, addr), openRawStream(t, addr)
			waitUntil(t, "taken over", func() bool { return held.Load() == 2 })
			// The lease is taken as the hub adopts a connection, a moment
			// before the sweep is given it: wait for the sweep's count.
			wantSwept := map[string]int{"swept": 2, "watched": 0}[kind]
			waitUntil(t, fmt.Sprintf("%d streams swept", wantSwept), func() bool { return r.hub.Swept() == wantSwept })

			if _, err := a.conn.Write([]byte("stray bytes")); err != nil {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond)
			id := r.post(t, "still here")
			for _, s := range []*rawStream{a, b} {
				if got := s.nextID(t); got != itoa(id) {
					t.Fatalf("got id %s, want %d", got, id)
				}
			}
			if n := held.Load(); n != 2 {
				t.Fatalf("%d streams held after stray bytes, want 2", n)
			}
			// Both were adopted before they got the post: the count is final.
			if n := r.hub.Swept(); n != wantSwept {
				t.Fatalf("%d streams swept, want %d", n, wantSwept)
			}

			a.conn.Close()
			waitUntil(t, "let go", func() bool { return held.Load() == 1 && r.hub.Subscribers() == 1 })

			// A client that keeps sending is let go too: it has no reason
			// to, and each look at its socket costs a read.
			c := openRawStream(t, addr)
			waitUntil(t, "taken over", func() bool { return held.Load() == 2 })
			if _, err := c.conn.Write(make([]byte, 5000)); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, "a sending client let go", func() bool { return held.Load() == 1 })
			id = r.post(t, "after")
			if got := b.nextID(t); got != itoa(id) {
				t.Fatalf("the other stream got id %s, want %d", got, id)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
