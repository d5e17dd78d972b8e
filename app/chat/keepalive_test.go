package chat_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"beacon/app/apptest"
	"beacon/app/chat"
)

// pingJoins opens Ann's connection both ways the hub serves one: waiting
// for frames inside gorilla's read (no Request.Reader) and outside it
// (Upgrade's Reader).
func pingJoins(t *testing.T) map[string]func(t *testing.T) *apptest.Chatter {
	return map[string]func(t *testing.T) *apptest.Chatter{
		"gorilla's read": func(t *testing.T) *apptest.Chatter {
			r := newChatRig(t, chat.Options{})
			ann, _, _ := r.join(t, r.user(t, "Ann"), "general")
			return ann
		},
		"own read": func(t *testing.T) *apptest.Chatter {
			r := newChatRig(t, chat.Options{})
			ann, _, _ := apptest.Join(t, dialRead(t, readRig(t, r, r.user(t, "Ann"))))
			return ann
		},
	}
}

// Each ping costs the server a write: a client that floods them is closed
// with 1008, as a message flood is.
func TestChatDisconnectsAPingFlood(t *testing.T) {
	for name, join := range pingJoins(t) {
		t.Run(name, func(t *testing.T) {
			ann := join(t)
			flooded := make(chan int, 1)
			go func() {
				// Writes fail once the server has closed: that is the point.
				sent := 0
				for ; sent < 5000; sent++ {
					if ann.Conn.WriteControl(websocket.PingMessage, []byte("0123456789"), time.Now().Add(wait)) != nil {
						break
					}
				}
				flooded <- sent
			}()
			pongs := 0
			ann.Conn.SetPongHandler(func(string) error { pongs++; return nil })
			if code := ann.Closed(); code != websocket.ClosePolicyViolation {
				t.Fatalf("closed with %d, want %d", code, websocket.ClosePolicyViolation)
			}
			sent := <-flooded
			t.Logf("%d pings sent, %d answered", sent, pongs)
			if pongs > chat.PingBurst+5 {
				t.Fatalf("%d pings answered, want about %d", pongs, chat.PingBurst)
			}
		})
	}
}

// A client that pings within its allowance has every ping answered and
// keeps its connection.
func TestChatAnswersAFewPings(t *testing.T) {
	for name, join := range pingJoins(t) {
		t.Run(name, func(t *testing.T) {
			ann := join(t)
			ponged := make(chan string, chat.PingBurst)
			ann.Conn.SetPongHandler(func(data string) error { ponged <- data; return nil })
			for i := range chat.PingBurst {
				if err := ann.Conn.WriteControl(websocket.PingMessage, []byte{byte('a' + i)}, time.Now().Add(wait)); err != nil {
					t.Fatal(err)
				}
			}
			ann.Say("still here")
			if f := ann.NextOf("message"); f.Body != "still here" {
				t.Fatalf("got %+v", f)
			}
			var got, want strings.Builder
			for i := range chat.PingBurst {
				want.WriteByte(byte('a' + i))
				select {
				case data := <-ponged:
					got.WriteString(data)
				case <-time.After(wait):
					t.Fatalf("pongs %q, want %d", got.String(), chat.PingBurst)
				}
			}
			if got.String() != want.String() {
				t.Fatalf("pongs %q, want %q", got.String(), want.String())
			}
		})
	}
}
