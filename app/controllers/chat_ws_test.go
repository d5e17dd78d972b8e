package controllers_test

// The chat WebSocket's handshake: who may connect, from where. The chat's
// rules once connected are the hub's (channels/chat_*_test.go).

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"beacon/app/apptest"
)

// chatUser creates a user, signs them in and returns their client.
func chatUser(t testing.TB, app *apptest.App, name string) *apptest.Client {
	t.Helper()
	email := strings.ToLower(name) + "@example.com"
	app.CreateUser(t, name, email, "correct horse", false)
	c := app.Client(t)
	c.Login(t, email, "correct horse")
	return c
}

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
		{"cursor not a number", ann, "/chat/general/ws?after=x", own, http.StatusBadRequest},
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
	if n := len(apptest.ChatMessages(t, app.Store, "general")); n != 0 {
		t.Fatalf("%d messages stored", n)
	}
}

// Signing out in one tab ends the chat connection of another: its next
// message is refused with 1008 and not stored. The hub asks the
// controller's session check; this is where the two meet.
func TestChatClosesWhenTheSessionEnds(t *testing.T) {
	app := apptest.New(t, apptest.Options{})
	ann := chatUser(t, app, "Ann")
	ch, _, _ := apptest.Join(t, ann.DialChat(t, "general"))
	ch.Say("before")
	if f := ch.NextOf("message"); f.Body != "before" {
		t.Fatalf("got %+v", f)
	}
	if resp, _ := ann.PostForm(t, "/logout", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	ch.Say("after")
	if code := ch.Closed(); code != websocket.ClosePolicyViolation {
		t.Fatalf("close code %d, want 1008", code)
	}
	if ms := apptest.ChatMessages(t, app.Store, "general"); len(ms) != 1 {
		t.Fatalf("%d messages stored, want only the one sent before logout", len(ms))
	}
}
