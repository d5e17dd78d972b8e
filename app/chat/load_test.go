package chat_test

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"beacon/app/apptest"
	"beacon/app/chat"
	"beacon/app/models"
)

// TestChatLoad measures delivery in one busy room: 1,000 clients, 50
// messages a second from 10 of them (5 each, within the flood limit) for
// 20 seconds. It is a measurement, not a CI test:
//
//	BEACON_CHAT_LOAD=1 go test -run TestChatLoad -v -count=1 ./app/chat/
func TestChatLoad(t *testing.T) {
	if os.Getenv("BEACON_CHAT_LOAD") == "" {
		t.Skip("set BEACON_CHAT_LOAD=1 to run the chat load measurement")
	}
	const (
		clients  = 1000
		users    = 20
		senders  = 10
		rate     = 50 // messages a second, all senders together
		duration = 20 * time.Second
	)
	r := newChatRig(t, chat.Options{})
	var logins []models.User
	for i := range users {
		logins = append(logins, r.user(t, fmt.Sprintf("User%02d", i)))
	}

	conns := make([]*websocket.Conn, clients)
	var dialErr error
	var dialMu sync.Mutex
	var dials sync.WaitGroup
	for w := range 20 {
		dials.Add(1)
		go func() {
			defer dials.Done()
			for i := w; i < clients; i += 20 {
				c, err := r.connect(logins[i%users], "load", 0, nil)
				if err != nil {
					dialMu.Lock()
					dialErr = err
					dialMu.Unlock()
					return
				}
				conns[i] = c
			}
		}()
	}
	dials.Wait()
	for _, c := range conns {
		if c != nil {
			defer c.Close()
		}
	}
	if dialErr != nil {
		t.Fatalf("dial: %v", dialErr)
	}

	type result struct {
		latencies []time.Duration
		got       int
		err       error
	}
	results := make(chan result, clients)
	for _, c := range conns {
		go func() {
			var r result
			defer func() { results <- r }()
			ends := 0
			for {
				_ = c.SetReadDeadline(time.Now().Add(duration + 30*time.Second))
				_, data, err := c.ReadMessage()
				if err != nil {
					r.err = err
					return
				}
				var f struct{ Type, Body string }
				if err := json.Unmarshal(data, &f); err != nil {
					r.err = err
					return
				}
				if f.Type != "message" {
					continue
				}
				if f.Body == "end" {
					// Each sender's end follows its last message.
					if ends++; ends == senders {
						return
					}
					continue
				}
				sentAt, err := strconv.ParseInt(strings.Fields(f.Body)[0], 10, 64)
				if err != nil {
					r.err = err
					return
				}
				r.got++
				r.latencies = append(r.latencies, time.Since(time.Unix(0, sentAt)))
			}
		}()
	}

	// Each sender writes on its own connection (gorilla allows one writer
	// beside the reader goroutine above) on a fixed schedule, catching up
	// when it falls behind, so the offered load is exactly rate.
	start := time.Now()
	perSender := int(duration/time.Second) * rate / senders
	interval := time.Second * senders / rate
	var sendWG sync.WaitGroup
	sent := make([]int, senders)
	for s := range senders {
		sendWG.Add(1)
		go func() {
			defer sendWG.Done()
			offset := interval * time.Duration(s) / senders
			for k := range perSender {
				if d := time.Until(start.Add(offset + interval*time.Duration(k))); d > 0 {
					time.Sleep(d) // pacing the load, not waiting for a result
				}
				body := fmt.Sprintf(`{"type":"message","body":"%d sender%d #%d"}`, time.Now().UnixNano(), s, k)
				_ = conns[s].SetWriteDeadline(time.Now().Add(5 * time.Second))
				if err := conns[s].WriteMessage(websocket.TextMessage, []byte(body)); err != nil {
					return
				}
				sent[s]++
			}
			_ = conns[s].WriteMessage(websocket.TextMessage, []byte(`{"type":"message","body":"end"}`))
		}()
	}
	sendWG.Wait()
	total := 0
	for _, n := range sent {
		total += n
	}

	var all []time.Duration
	lost, dropped := 0, 0
	for range clients {
		r := <-results
		if r.err != nil {
			dropped++
			continue
		}
		lost += total - r.got
		all = append(all, r.latencies...)
	}
	stored := len(apptest.ChatMessages(t, r.store, "load")) - senders // without the ends
	slices.Sort(all)
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[int(float64(len(all)-1)*p)]
	}
	t.Logf("%d clients, %d messages sent in %v (%d stored), %d deliveries", clients, total, time.Since(start).Round(time.Millisecond), stored, len(all))
	t.Logf("latency p50 %v, p90 %v, p99 %v, max %v", pct(0.5), pct(0.9), pct(0.99), pct(1))
	t.Logf("lost by clients that kept reading: %d; clients dropped: %d", lost, dropped)
	if lost != 0 || dropped != 0 || stored != total {
		t.Fatalf("lost %d, dropped %d, stored %d of %d", lost, dropped, stored, total)
	}
}
