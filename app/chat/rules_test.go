package chat_test

// The chat's rules: which frames are refused, and how a connection is
// closed. Who may connect is the controller's (controllers/chat_ws_test.go).

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"beacon/app/apptest"
	"beacon/app/chat"
)

func TestChatRefusesInvalidFramesAndKeepsTheConnection(t *testing.T) {
	// Refused frames count against the rate limit: these are more than
	// its default burst.
	r := newChatRig(t, chat.Options{MessageRate: 100, MessageBurst: 100})
	ann, _, _ := r.join(t, r.user(t, "Ann"), "general")
	for _, tc := range []struct {
		name string
		kind int
		data string
		want string
	}{
		{"not JSON", websocket.TextMessage, "hello", "not JSON"},
		{"wrong shape", websocket.TextMessage, `{"type":"message","body":5}`, "not JSON"},
		{"unknown type", websocket.TextMessage, `{"type":"shout","body":"hi"}`, "unknown frame type"},
		{"empty body", websocket.TextMessage, `{"type":"message","body":""}`, "empty"},
		{"blank body", websocket.TextMessage, `{"type":"message","body":" \n\t"}`, "empty"},
		{"over 2000 characters", websocket.TextMessage, `{"type":"message","body":"` + strings.Repeat("é", 2001) + `"}`, "over 2000"},
		{"binary", websocket.BinaryMessage, `{"type":"message","body":"hi"}`, "text frames"},
		{"NUL character", websocket.TextMessage, `{"type":"message","body":"a\u0000b"}`, "must be text"},
		{"bell", websocket.TextMessage, `{"type":"message","body":"ding\u0007"}`, "control or invisible"},
		{"escape", websocket.TextMessage, `{"type":"message","body":"\u001b[31mred"}`, "control or invisible"},
		{"C1 control", websocket.TextMessage, `{"type":"message","body":"a\u0085b"}`, "control or invisible"},
		{"right-to-left override", websocket.TextMessage, `{"type":"message","body":"see \u202egnp.exe"}`, "control or invisible"},
		{"bidi isolate", websocket.TextMessage, `{"type":"message","body":"a\u2067b\u2069"}`, "control or invisible"},
		{"zero-width space inside", websocket.TextMessage, `{"type":"message","body":"pay\u200bpal"}`, "control or invisible"},
		{"soft hyphen", websocket.TextMessage, `{"type":"message","body":"a\u00adb"}`, "control or invisible"},
		{"byte order mark", websocket.TextMessage, `{"type":"message","body":"\ufeffhi"}`, "control or invisible"},
		{"only invisible", websocket.TextMessage, `{"type":"message","body":"\u00a0\u200b"}`, "empty"},
		{"only an override", websocket.TextMessage, `{"type":"message","body":"\u202e"}`, "empty"},
		{"only joiners", websocket.TextMessage, `{"type":"message","body":" \u200d\u200c\ufe0f"}`, "empty"},
		{"only Hangul fillers", websocket.TextMessage, `{"type":"message","body":"\u3164\u115f"}`, "empty"},
	} {
		ann.SendRaw(tc.kind, []byte(tc.data))
		if f := ann.Next(); f.Type != "error" || !strings.Contains(f.Error, tc.want) {
			t.Errorf("%s: got %+v, want an error about %q", tc.name, f, tc.want)
		}
	}
	accepted := []string{
		strings.Repeat("é", 2000),
		"two\nlines",
		"a\ttab and a Windows line end\r\n.",
		"no\u00a0break",
		"שלום, مرحبا",                    // right-to-left text, without overrides
		"👨\u200d👩\u200d👧 🏳\ufe0f\u200d🌈", // emoji joined by U+200D
		"می\u200cخواهم",                  // Persian needs U+200C
	}
	for _, body := range accepted {
		ann.Say(body)
		if m := ann.NextOf("message"); m.Body != body {
			t.Errorf("%.20q refused: %+v", body, m)
		}
	}
	if ms := apptest.ChatMessages(t, r.store, "general"); len(ms) != len(accepted) {
		t.Fatalf("%d messages stored, want only the %d valid ones", len(ms), len(accepted))
	}
}

func TestChatCloseCodes(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		code int
	}{
		{"frame over 8 KiB", []byte(`{"type":"message","body":"` + strings.Repeat("a", 9000) + `"}`), websocket.CloseMessageTooBig},
		{"text that is not UTF-8", []byte("{\"type\":\"message\",\"body\":\"\xff\xfe\"}"), websocket.CloseInvalidFramePayloadData},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newChatRig(t, chat.Options{})
			ann, _, _ := r.join(t, r.user(t, "Ann"), "general")
			ann.SendRaw(websocket.TextMessage, tc.data)
			if code := ann.Closed(); code != tc.code {
				t.Fatalf("close code %d, want %d", code, tc.code)
			}
			if n := len(apptest.ChatMessages(t, r.store, "general")); n != 0 {
				t.Fatalf("%d messages stored", n)
			}
		})
	}
}

func TestChatThrottlesThenDisconnectsAFlood(t *testing.T) {
	r := newChatRig(t, chat.Options{}) // config's 10 a second, 20 at once
	ann, _, _ := r.join(t, r.user(t, "Ann"), "general")
	const sent = 200
	go func() {
		// Writes fail once the server has closed: that is the point.
		for i := range sent {
			data := fmt.Appendf(nil, `{"type":"message","body":"flood %d"}`, i)
			if ann.Conn.WriteMessage(websocket.TextMessage, data) != nil {
				return
			}
		}
	}()
	delivered, throttled := 0, 0
	_ = ann.Conn.SetReadDeadline(time.Now().Add(wait))
	for {
		_, data, err := ann.Conn.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation {
				t.Fatalf("connection ended with %v, want close 1008", err)
			}
			break
		}
		var f apptest.ChatFrame
		_ = json.Unmarshal(data, &f)
		switch {
		case f.Type == "message":
			delivered++
		case f.Type == "error" && strings.Contains(f.Error, "too many messages"):
			throttled++
		}
	}
	stored := len(apptest.ChatMessages(t, r.store, "general"))
	if throttled == 0 || stored == 0 || stored >= 40 || delivered > stored {
		t.Fatalf("stored %d, delivered %d, throttled %d of %d sent", stored, delivered, throttled, sent)
	}
}

// The rate limit is the user's, not each socket's: one user flooding from
// several sockets at once stores no more than one socket may.
func TestChatRateLimitIsPerUserAcrossSockets(t *testing.T) {
	const (
		msgRate = 10
		burst   = 20
		sockets = 5
		each    = 60
	)
	r := newChatRig(t, chat.Options{MessageRate: msgRate, MessageBurst: burst})
	ann := r.user(t, "Ann")
	var floods []*apptest.Chatter
	for range sockets {
		c, _, _ := r.join(t, ann, "general")
		floods = append(floods, c)
	}
	start := time.Now()
	results := make(chan error, sockets)
	for _, c := range floods {
		go func() {
			go func() {
				for i := range each {
					data := fmt.Appendf(nil, `{"type":"message","body":"flood %d"}`, i)
					if c.Conn.WriteMessage(websocket.TextMessage, data) != nil {
						return // the server closed: that is the point
					}
				}
			}()
			// Read until the server closes this socket for flooding.
			_ = c.Conn.SetReadDeadline(time.Now().Add(wait))
			for {
				if _, _, err := c.Conn.ReadMessage(); err != nil {
					var ce *websocket.CloseError
					if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation {
						results <- fmt.Errorf("socket ended with %v, want close 1008", err)
						return
					}
					results <- nil
					return
				}
			}
		}()
	}
	for range sockets {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	stored := len(apptest.ChatMessages(t, r.store, "general"))
	// Per socket, each would have stored its own burst: sockets*burst.
	limit := burst + int(msgRate*elapsed.Seconds()) + 1
	t.Logf("%d sockets sent up to %d messages each; %d stored in %v (limit %d)", sockets, each, stored, elapsed, limit)
	if stored == 0 || stored > limit {
		t.Fatalf("stored %d messages in %v, want 1 to %d", stored, elapsed, limit)
	}
}

// The user's allowance outlives their sockets: closing the last one and
// opening another does not give them a new burst (nor does a reconnect
// after a flood's 1008).
func TestChatRateLimitHoldsAcrossReconnects(t *testing.T) {
	const (
		msgRate = 1
		burst   = 5
		cycles  = 5
	)
	r := newChatRig(t, chat.Options{MessageRate: msgRate, MessageBurst: burst})
	ann := r.user(t, "Ann")
	start := time.Now()
	refused := 0
	for cycle := range cycles {
		c, _, _ := r.join(t, ann, "general")
		for i := range burst {
			c.Say(fmt.Sprintf("cycle %d message %d", cycle, i))
		}
		// Each message comes back on this socket, stored or refused.
		for answered := 0; answered < burst; {
			switch f := c.Next(); {
			case f.Type == "message":
				answered++
			case f.Type == "error" && strings.Contains(f.Error, "too many messages"):
				answered++
				refused++
			}
		}
		c.Conn.Close()
		// The hub has let the user go once it counts no connection.
		deadline := time.Now().Add(wait)
		for r.hub.Connections() != 0 {
			if time.Now().After(deadline) {
				t.Fatal("the closed socket is still counted")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	elapsed := time.Since(start)
	stored := len(apptest.ChatMessages(t, r.store, "general"))
	limit := burst + int(msgRate*elapsed.Seconds()) + 1
	t.Logf("%d cycles of %d messages: %d stored, %d refused in %v (limit %d)", cycles, burst, stored, refused, elapsed, limit)
	if refused == 0 || stored > limit {
		t.Fatalf("stored %d and refused %d of %d in %v, want at most %d stored", stored, refused, cycles*burst, elapsed, limit)
	}
}

// A user's allowance is kept after their last socket only until it is
// full again: then the next user to arrive has the hub forget it, so the
// hub keeps none for users long gone.
func TestChatForgetsARefilledAllowance(t *testing.T) {
	r := newChatRig(t, chat.Options{MessageRate: 100, MessageBurst: 2}) // full again in 20 ms
	ann, bea := r.user(t, "Ann"), r.user(t, "Bea")
	c, _, _ := r.join(t, ann, "general")
	c.Say("one")
	c.Say("two")
	c.NextOf("message")
	c.NextOf("message")
	c.Conn.Close()
	deadline := time.Now().Add(wait)
	for r.hub.Connections() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the closed socket is still counted")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := r.hub.RestingUsers(); n != 1 {
		t.Fatalf("%d resting allowances after Ann spent hers, want 1", n)
	}
	for r.hub.RestingUsers() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d resting allowances long after they refilled", r.hub.RestingUsers())
		}
		b, _, _ := r.join(t, bea, "general") // Bea sends nothing: hers is never kept
		b.Conn.Close()
		time.Sleep(50 * time.Millisecond)
	}
}
