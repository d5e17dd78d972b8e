package cluster

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"beacon/app/apptest"
)

// chatFrame is a server frame of the chat WebSocket.
type chatFrame struct {
	Type string
	Body string
	User struct{ Name string }
}

// nextChatMessage reads frames until a chat message, skipping history and
// presence.
func nextChatMessage(t *testing.T, conn interface {
	SetReadDeadline(time.Time) error
	ReadJSON(any) error
}, timeout time.Duration) chatFrame {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(timeout))
	for {
		var f chatFrame
		if err := conn.ReadJSON(&f); err != nil {
			t.Fatalf("read chat frame: %v", err)
		}
		if f.Type == "message" {
			return f
		}
	}
}

// awaitOnline reads frames until a presence frame lists exactly names.
func awaitOnline(t *testing.T, conn *websocket.Conn, names ...string) {
	t.Helper()
	ch := &apptest.Chatter{T: t, Conn: conn}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if f := ch.NextOf("presence"); slices.Equal(f.Online, names) {
			return
		}
	}
	t.Fatalf("presence never listed %v", names)
}

// Users signed in on different instances chat in one room, and each sees
// the other online.
func TestClusterChatAcrossInstances(t *testing.T) {
	c := startCluster(t, 2)
	a, b := c.nodes[0], c.nodes[1]
	a.app.CreateUser(t, "Ada", "ada@example.com", "correct horse", false)
	b.app.CreateUser(t, "Bob", "bob@example.com", "battery staple", false)
	ada, bob := a.app.Client(t), b.app.Client(t)
	ada.Login(t, "ada@example.com", "correct horse")
	bob.Login(t, "bob@example.com", "battery staple")
	adaWS, bobWS := ada.DialChat(t, "general"), bob.DialChat(t, "general")
	// Both rooms are running, on both instances, once each socket sees
	// both users online: only then is a message sure to arrive live rather
	// than in a history frame.
	awaitOnline(t, adaWS, "Ada", "Bob")
	awaitOnline(t, bobWS, "Ada", "Bob")

	if err := adaWS.WriteJSON(map[string]string{"type": "message", "body": "hello from A"}); err != nil {
		t.Fatal(err)
	}
	if f := nextChatMessage(t, bobWS, 10*time.Second); f.Body != "hello from A" || f.User.Name != "Ada" {
		t.Fatalf("B received %+v", f)
	}
	if err := bobWS.WriteJSON(map[string]string{"type": "message", "body": "hello from B"}); err != nil {
		t.Fatal(err)
	}
	// Ada sees her own message first, then Bob's.
	if f := nextChatMessage(t, adaWS, 10*time.Second); f.Body != "hello from A" {
		t.Fatalf("A received %+v first", f)
	}
	if f := nextChatMessage(t, adaWS, 10*time.Second); f.Body != "hello from B" || f.User.Name != "Bob" {
		t.Fatalf("A received %+v", f)
	}
}

// Marking read on A updates the unread count on B's stream; signing out on
// A ends the user's stream on B.
func TestClusterUnreadCountAndSignOutAcrossInstances(t *testing.T) {
	c := startCluster(t, 2)
	a, b := c.nodes[0], c.nodes[1]
	a.app.CreateUser(t, "Ada", "ada@example.com", "correct horse", false)
	first := c.mustPost(t, a, "one")
	c.mustPost(t, b, "two")

	onA := a.app.Client(t)
	onA.Login(t, "ada@example.com", "correct horse")
	onB := b.app.Client(t)
	onB.Jar = onA.Jar // the same browser: cookies are per host, not per port
	stream := onB.OpenStream(t, "")
	unread := func() string {
		t.Helper()
		for {
			if ev := stream.NextEvent(t, 10*time.Second); ev.Event == "unread" {
				return ev.Data
			}
		}
	}
	if got := unread(); got != `{"unread":2}` {
		t.Fatalf("unread at start: %s", got)
	}
	if resp, body := onA.PostForm(t, fmt.Sprintf("/notifications/%d/read", first), nil); resp.StatusCode >= 400 {
		t.Fatalf("mark read on A: %d %s", resp.StatusCode, body)
	}
	if got := unread(); got != `{"unread":1}` {
		t.Fatalf("unread on B after mark-read on A: %s", got)
	}

	onA.Logout(t)
	if !stream.Ended(10 * time.Second) {
		t.Fatal("signing out on A did not end the stream on B")
	}
}
