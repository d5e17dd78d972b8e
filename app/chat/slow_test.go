//go:build unix

package chat_test

import (
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"beacon/app/apptest"
	"beacon/app/chat"
)

// A client that never reads is evicted once its queue fills, and the
// readers meanwhile get every message without waiting for it.
func TestChatClientThatDoesNotReadDoesNotDelayOthers(t *testing.T) {
	rig := newChatRig(t, chat.Options{MessageRate: 100000, MessageBurst: 100000})
	// A tiny receive buffer, set before connecting so the window never
	// grows: the stalled socket fills after a few frames, not megabytes.
	small := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		if cerr := c.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		}); cerr != nil {
			return cerr
		}
		return err
	}}
	stall := &websocket.Dialer{NetDialContext: small.DialContext}
	rig.dial(t, rig.user(t, "Stan"), "general", 0, stall)

	type result struct {
		latencies []time.Duration
		err       error
	}
	var readers []*apptest.Chatter
	results := make(chan result, 2)
	stanGone := make(chan struct{})
	for i, name := range []string{"Ann", "Bob"} {
		c, _, _ := rig.join(t, rig.user(t, name), "general")
		readers = append(readers, c)
		watch := i == 0
		go func() {
			// Read until the "end" message; bodies start with their send time.
			var r result
			defer func() { results <- r }()
			sawStan := false
			for {
				_ = c.Conn.SetReadDeadline(time.Now().Add(wait))
				_, data, err := c.Conn.ReadMessage()
				if err != nil {
					r.err = err
					return
				}
				var f apptest.ChatFrame
				if err := json.Unmarshal(data, &f); err != nil {
					r.err = err
					return
				}
				switch f.Type {
				case "presence":
					if slices.Contains(f.Online, "Stan") {
						sawStan = true
					} else if watch && sawStan {
						close(stanGone)
						watch = false
					}
				case "message":
					if f.Body == "end" {
						return
					}
					sentAt, err := strconv.ParseInt(strings.Fields(f.Body)[0], 10, 64)
					if err != nil {
						r.err = err
						return
					}
					r.latencies = append(r.latencies, time.Since(time.Unix(0, sentAt)))
				}
			}
		}()
	}

	// Ann talks (her reader goroutine reads for her), 200 long messages a
	// second, until the server gives up on Stan.
	pad := strings.Repeat("€", 1950)
	sent := 0
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for gone := false; !gone; {
		select {
		case <-stanGone:
			gone = true
		case <-deadline:
			t.Fatalf("Stan not evicted after %d messages", sent)
		case <-tick.C:
			readers[0].Say(fmt.Sprintf("%d %s", time.Now().UnixNano(), pad))
			sent++
		}
	}
	readers[0].Say("end")

	var all []time.Duration
	for range readers {
		r := <-results
		if r.err != nil {
			t.Fatalf("reader: %v", r.err)
		}
		if len(r.latencies) != sent {
			t.Fatalf("a reader got %d of %d messages", len(r.latencies), sent)
		}
		all = append(all, r.latencies...)
	}
	slices.Sort(all)
	p50, p99 := all[len(all)/2], all[len(all)*99/100]
	t.Logf("%d messages until the stalled client was evicted; readers' latency p50 %v, p99 %v", sent, p50, p99)
	// A hub held up by Stan would keep readers waiting for its 10 s write
	// deadline; 5 s leaves room for a loaded machine.
	if p99 > 5*time.Second {
		t.Fatalf("readers waited: p99 %v", p99)
	}
}
