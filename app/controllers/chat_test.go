package controllers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/crypto/bcrypt"

	"beacon/app/apptest"
	"beacon/app/models"
)

// chatFrame is any frame the chat server sends.
type chatFrame struct {
	Type      string `json:"type"`
	ID        int64  `json:"id"`
	Room      string `json:"room"`
	User      struct{ Name string }
	Body      string      `json:"body"`
	CreatedAt string      `json:"created_at"`
	HTML      string      `json:"html"`
	Messages  []chatFrame `json:"messages"`
	Online    []string    `json:"online"`
	Error     string      `json:"error"`
}

// chatter is one signed-in user's chat connection, read from the test's
// goroutine with deadlines.
type chatter struct {
	t    *testing.T
	conn *websocket.Conn
}

// chatUser creates a user, signs them in and returns their client. The
// password hash has bcrypt's lowest cost, so that signing in many users
// stays fast under -race.
func chatUser(t testing.TB, app *apptest.App, name string) *apptest.Client {
	t.Helper()
	email := strings.ToLower(name) + "@example.com"
	hash, err := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	u := models.User{Name: name, Email: email, PasswordHash: string(hash)}
	if err := app.Store.CreateUser(context.Background(), &u); err != nil {
		t.Fatal(err)
	}
	c := app.Client(t)
	c.Login(t, email, "correct horse")
	return c
}

// join connects c to room and reads the history and presence frames that
// open every connection.
func join(t *testing.T, c *apptest.Client, room string) (*chatter, []chatFrame, []string) {
	t.Helper()
	ch := &chatter{t: t, conn: c.DialChat(t, room)}
	h := ch.next()
	if h.Type != "history" {
		t.Fatalf("first frame %+v, want history", h)
	}
	p := ch.next()
	if p.Type != "presence" {
		t.Fatalf("second frame %+v, want presence", p)
	}
	return ch, h.Messages, p.Online
}

func (c *chatter) next() chatFrame {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(wait))
	kind, data, err := c.conn.ReadMessage()
	if err != nil {
		c.t.Fatalf("read chat frame: %v", err)
	}
	var f chatFrame
	if kind != websocket.TextMessage || json.Unmarshal(data, &f) != nil {
		c.t.Fatalf("frame %d %q is not JSON text", kind, data)
	}
	return f
}

// nextOf skips frames of other types.
func (c *chatter) nextOf(typ string) chatFrame {
	c.t.Helper()
	for {
		if f := c.next(); f.Type == typ {
			return f
		}
	}
}

func (c *chatter) say(body string) {
	c.t.Helper()
	c.sendRaw(websocket.TextMessage, fmt.Appendf(nil, `{"type":"message","body":%q}`, body))
}

func (c *chatter) sendRaw(kind int, data []byte) {
	c.t.Helper()
	_ = c.conn.SetWriteDeadline(time.Now().Add(wait))
	if err := c.conn.WriteMessage(kind, data); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// closed reads until the server closes and returns its close code.
func (c *chatter) closed() int {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(wait))
	for {
		if _, _, err := c.conn.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) {
				c.t.Fatalf("connection ended without a close frame: %v", err)
			}
			return ce.Code
		}
	}
}

func storedMessages(t *testing.T, app *apptest.App, room string) []models.ChatMessage {
	t.Helper()
	ms, err := app.Store.RecentChatMessages(context.Background(), room, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestChatTwoUsersTalkAndAnotherRoomHearsNothing(t *testing.T) {
	app := apptest.New(t, apptest.Options{})
	ann, _, _ := join(t, chatUser(t, app, "Ann"), "general")
	bob, _, online := join(t, chatUser(t, app, "Bob"), "general")
	if !slices.Equal(online, []string{"Ann", "Bob"}) {
		t.Fatalf("online %v", online)
	}
	cy, _, _ := join(t, chatUser(t, app, "Cy"), "other")

	ann.say("hello <script>alert(1)</script>")
	for _, c := range []*chatter{ann, bob} {
		m := c.nextOf("message")
		if m.ID == 0 || m.Room != "general" || m.User.Name != "Ann" || m.Body != "hello <script>alert(1)</script>" || m.CreatedAt == "" {
			t.Fatalf("got %+v", m)
		}
		if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "hello &lt;script&gt;") ||
			!strings.Contains(m.HTML, fmt.Sprintf(`id="chat-message-%d"`, m.ID)) {
			t.Fatalf("html %q: body must be escaped text", m.HTML)
		}
	}
	// Cy's first message frame is his own: nothing from general reached him.
	cy.say("anyone here?")
	if m := cy.nextOf("message"); m.Body != "anyone here?" || m.Room != "other" {
		t.Fatalf("other room got %+v", m)
	}
	if ms := storedMessages(t, app, "general"); len(ms) != 1 || ms[0].Body != "hello <script>alert(1)</script>" {
		t.Fatalf("stored %+v", ms)
	}
}

func TestChatHistoryOnConnectAndOnThePage(t *testing.T) {
	app := apptest.New(t, apptest.Options{})
	annClient := chatUser(t, app, "Ann")
	ann, err := app.Store.UserByEmail(context.Background(), "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 55 {
		m := models.ChatMessage{Room: "general", UserID: ann.ID, Body: fmt.Sprintf("<i>m%d</i>", i)}
		if err := app.Store.CreateChatMessage(context.Background(), &m); err != nil {
			t.Fatal(err)
		}
	}

	_, history, online := join(t, annClient, "general")
	if len(history) != 50 || history[0].Body != "<i>m5</i>" || history[49].Body != "<i>m54</i>" ||
		history[0].User.Name != "Ann" || history[0].Type != "message" || history[0].HTML == "" {
		t.Fatalf("history: %d messages, first %+v", len(history), history[0])
	}
	if !slices.Equal(online, []string{"Ann"}) {
		t.Fatalf("online %v", online)
	}

	resp, body := annClient.Get(t, "/chat")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "&lt;i&gt;m54&lt;/i&gt;") ||
		strings.Contains(body, "m4<") || strings.Contains(body, "<i>") || !strings.Contains(body, `src="/assets/chat.js?v=`) {
		t.Fatalf("chat page %d:\n%s", resp.StatusCode, body)
	}
	// A visitor is asked to sign in and sees neither messages nor the box.
	resp, body = app.Client(t).Get(t, "/chat/general")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `href="/login"`) ||
		strings.Contains(body, "m54") || strings.Contains(body, "chat-form") {
		t.Fatalf("visitor page %d:\n%s", resp.StatusCode, body)
	}
	for _, path := range []string{"/chat/General", "/chat/" + strings.Repeat("a", 41), "/chat/a.b", "/chat/%C3%A9"} {
		if resp, _ := annClient.Get(t, path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
}

func TestChatPresenceOnJoinAndLeave(t *testing.T) {
	app := apptest.New(t, apptest.Options{})
	ann, _, online := join(t, chatUser(t, app, "Ann"), "general")
	if !slices.Equal(online, []string{"Ann"}) {
		t.Fatalf("online %v", online)
	}
	bobClient := chatUser(t, app, "Bob")
	bob, _, _ := join(t, bobClient, "general")
	if p := ann.nextOf("presence"); !slices.Equal(p.Online, []string{"Ann", "Bob"}) {
		t.Fatalf("after Bob joined: %v", p.Online)
	}
	// A second tab of Bob's is still one Bob: no presence change for Ann.
	bob2, _, online := join(t, bobClient, "general")
	if !slices.Equal(online, []string{"Ann", "Bob"}) {
		t.Fatalf("second tab sees %v", online)
	}
	bob.conn.Close()
	bob2.conn.Close()
	if p := ann.nextOf("presence"); !slices.Equal(p.Online, []string{"Ann"}) {
		t.Fatalf("after Bob left: %v", p.Online)
	}
}

func TestChatShutdownClosesWithGoingAway(t *testing.T) {
	app := apptest.New(t, apptest.Options{})
	ann, _, _ := join(t, chatUser(t, app, "Ann"), "general")
	bob, _, _ := join(t, chatUser(t, app, "Bob"), "other")
	done := make(chan struct{})
	go func() {
		defer close(done)
		app.Stop(t)
	}()
	for _, c := range []*chatter{ann, bob} {
		if code := c.closed(); code != websocket.CloseGoingAway {
			t.Errorf("close code %d, want 1001", code)
		}
	}
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("the hubs did not stop")
	}
}

// A client that reconnects with ?after=ID gets what it missed as its
// history, even more than the 50 a new client gets, each message once.
func TestChatReconnectCatchesUpOnWhatItMissed(t *testing.T) {
	app := apptest.New(t, apptest.Options{ChatRate: 1000, ChatBurst: 1000})
	ann, bea := chatUser(t, app, "Ann"), chatUser(t, app, "Bea")
	talker, _, _ := join(t, bea, "general")
	talker.say("seen by Ann")
	seen := talker.nextOf("message")

	for i := range 60 {
		talker.say(fmt.Sprint("missed ", i))
		talker.nextOf("message")
	}
	conn, resp, err := ann.DialChatRaw(fmt.Sprintf("/chat/general/ws?after=%d", seen.ID), http.Header{"Origin": {app.Origin()}}, nil)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	defer conn.Close()
	back := &chatter{t: t, conn: conn}
	h := back.next()
	if h.Type != "history" || len(h.Messages) != 60 || h.Messages[0].Body != "missed 0" || h.Messages[59].Body != "missed 59" {
		t.Fatalf("history of %d, first %+v", len(h.Messages), h.Messages[0])
	}
	for i := 1; i < len(h.Messages); i++ {
		if h.Messages[i].ID <= h.Messages[i-1].ID {
			t.Fatalf("history out of order at %d", i)
		}
	}
	if _, resp, _ := ann.DialChatRaw("/chat/general/ws?after=x", http.Header{"Origin": {app.Origin()}}, nil); resp == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("?after=x: %v, want 400", resp)
	}
}
