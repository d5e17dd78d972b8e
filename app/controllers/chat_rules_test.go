package controllers_test

// The chat's rules: who may connect, which frames are refused, and how a
// connection is closed.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"beacon/app/apptest"
)

func TestChatRefusesBadHandshakes(t *testing.T) {
	app := apptest.New(t, apptest.Options{AllowedOrigins: []string{"https://app.example.com"}})
	ann := chatUser(t, app, "Ann")
	own := http.Header{"Origin": {app.Origin()}}
	for _, tc := range []struct {
		name   string
		client *apptest.Client
		path   string
		header http.Header
		status int
	}{
		{"visitor", app.Client(t), "/chat/general/ws", own, http.StatusUnauthorized},
		{"visitor from a foreign origin", app.Client(t), "/chat/general/ws", http.Header{"Origin": {"https://evil.example"}}, http.StatusForbidden},
		{"foreign origin", ann, "/chat/general/ws", http.Header{"Origin": {"https://evil.example"}}, http.StatusForbidden},
		{"no origin", ann, "/chat/general/ws", http.Header{}, http.StatusForbidden},
		{"null origin", ann, "/chat/general/ws", http.Header{"Origin": {"null"}}, http.StatusForbidden},
		{"bad room", ann, "/chat/Bad!/ws", own, http.StatusNotFound},
		{"allowed origin", ann, "/chat/general/ws", http.Header{"Origin": {"https://app.example.com"}}, http.StatusSwitchingProtocols},
		{"own origin", ann, "/chat/general/ws", own, http.StatusSwitchingProtocols},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, resp, err := tc.client.DialChatRaw(tc.path, tc.header, nil)
			if conn != nil {
				conn.Close()
			}
			if resp == nil {
				t.Fatalf("no response: %v", err)
			}
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (%v)", resp.StatusCode, tc.status, err)
			}
		})
	}
	if n := len(storedMessages(t, app, "general")); n != 0 {
		t.Fatalf("%d messages stored", n)
	}
}

func TestChatRefusesInvalidFramesAndKeepsTheConnection(t *testing.T) {
	app := apptest.New(t, apptest.Options{})
	ann, _, _ := join(t, chatUser(t, app, "Ann"), "general")
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
	} {
		ann.sendRaw(tc.kind, []byte(tc.data))
		if f := ann.next(); f.Type != "error" || !strings.Contains(f.Error, tc.want) {
			t.Errorf("%s: got %+v, want an error about %q", tc.name, f, tc.want)
		}
	}
	long := strings.Repeat("é", 2000)
	ann.say(long)
	if m := ann.nextOf("message"); m.Body != long {
		t.Fatalf("2000 characters refused: %+v", m)
	}
	if ms := storedMessages(t, app, "general"); len(ms) != 1 {
		t.Fatalf("%d messages stored, want only the valid one", len(ms))
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
			app := apptest.New(t, apptest.Options{})
			ann, _, _ := join(t, chatUser(t, app, "Ann"), "general")
			ann.sendRaw(websocket.TextMessage, tc.data)
			if code := ann.closed(); code != tc.code {
				t.Fatalf("close code %d, want %d", code, tc.code)
			}
			if n := len(storedMessages(t, app, "general")); n != 0 {
				t.Fatalf("%d messages stored", n)
			}
		})
	}
}

func TestChatThrottlesThenDisconnectsAFlood(t *testing.T) {
	app := apptest.New(t, apptest.Options{}) // 10 a second, 20 at once
	ann, _, _ := join(t, chatUser(t, app, "Ann"), "general")
	const sent = 200
	go func() {
		// Writes fail once the server has closed: that is the point.
		for i := range sent {
			data := fmt.Appendf(nil, `{"type":"message","body":"flood %d"}`, i)
			if ann.conn.WriteMessage(websocket.TextMessage, data) != nil {
				return
			}
		}
	}()
	delivered, throttled := 0, 0
	_ = ann.conn.SetReadDeadline(time.Now().Add(wait))
	for {
		_, data, err := ann.conn.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation {
				t.Fatalf("connection ended with %v, want close 1008", err)
			}
			break
		}
		var f chatFrame
		_ = json.Unmarshal(data, &f)
		switch {
		case f.Type == "message":
			delivered++
		case f.Type == "error" && strings.Contains(f.Error, "too many messages"):
			throttled++
		}
	}
	stored := len(storedMessages(t, app, "general"))
	if throttled == 0 || stored == 0 || stored >= 40 || delivered > stored {
		t.Fatalf("stored %d, delivered %d, throttled %d of %d sent", stored, delivered, throttled, sent)
	}
}

// Signing out in one tab ends the chat connection of another: its next
// message is refused with 1008 and not stored.
func TestChatClosesWhenTheSessionEnds(t *testing.T) {
	app := apptest.New(t, apptest.Options{})
	ann := chatUser(t, app, "Ann")
	ch, _, _ := join(t, ann, "general")
	ch.say("before")
	if f := ch.nextOf("message"); f.Body != "before" {
		t.Fatalf("got %+v", f)
	}
	if resp, _ := ann.PostForm(t, "/logout", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	ch.say("after")
	if code := ch.closed(); code != websocket.ClosePolicyViolation {
		t.Fatalf("close code %d, want 1008", code)
	}
	if ms := storedMessages(t, app, "general"); len(ms) != 1 {
		t.Fatalf("%d messages stored, want only the one sent before logout", len(ms))
	}
}
