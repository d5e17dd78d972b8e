package apptest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"beacon/app/models"
	"beacon/app/store"
)

// Origin is the Origin header a page of the app under test sends.
func (a *App) Origin() string { return a.URL }

// DialChat opens room's chat WebSocket as the app's own page would: with
// the client's cookies and the app's origin. It fails the test unless the
// upgrade succeeds, and closes the connection when the test ends.
func (c *Client) DialChat(t testing.TB, room string) *websocket.Conn {
	t.Helper()
	conn, resp, err := c.DialChatRaw("/chat/"+room+"/ws", http.Header{"Origin": {c.app.Origin()}}, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial chat %s: %v (status %d)", room, err, status)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// DialChatRaw opens a WebSocket to path with exactly these headers, the
// client's cookies, and dialer (nil: the default); the caller closes it.
func (c *Client) DialChatRaw(path string, header http.Header, dialer *websocket.Dialer) (*websocket.Conn, *http.Response, error) {
	d := websocket.Dialer{}
	if dialer != nil {
		d = *dialer
	}
	d.Jar = c.Jar
	conn, resp, err := d.Dial("ws"+strings.TrimPrefix(c.app.URL, "http")+path, header)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	return conn, resp, err
}

// ChatFrame is any frame the chat server sends.
type ChatFrame struct {
	Type      string `json:"type"`
	ID        int64  `json:"id"`
	Room      string `json:"room"`
	User      struct{ Name string }
	Body      string      `json:"body"`
	CreatedAt string      `json:"created_at"`
	HTML      string      `json:"html"`
	Messages  []ChatFrame `json:"messages"`
	Online    []string    `json:"online"`
	Error     string      `json:"error"`
}

// chatWait bounds each read and write of a Chatter.
const chatWait = 5 * time.Second

// Chatter is one chat connection, read and written from the test's
// goroutine with deadlines: the chat hub's tests and the app's share it.
type Chatter struct {
	T    testing.TB
	Conn *websocket.Conn
}

// Join reads the history and presence frames that open every chat
// connection on conn, and returns its Chatter with them.
func Join(t testing.TB, conn *websocket.Conn) (*Chatter, []ChatFrame, []string) {
	t.Helper()
	ch := &Chatter{T: t, Conn: conn}
	h := ch.Next()
	if h.Type != "history" {
		t.Fatalf("first frame %+v, want history", h)
	}
	p := ch.Next()
	if p.Type != "presence" {
		t.Fatalf("second frame %+v, want presence", p)
	}
	return ch, h.Messages, p.Online
}

// Next reads the next frame.
func (c *Chatter) Next() ChatFrame {
	c.T.Helper()
	_ = c.Conn.SetReadDeadline(time.Now().Add(chatWait))
	kind, data, err := c.Conn.ReadMessage()
	if err != nil {
		c.T.Fatalf("read chat frame: %v", err)
	}
	var f ChatFrame
	if kind != websocket.TextMessage || json.Unmarshal(data, &f) != nil {
		c.T.Fatalf("frame %d %q is not JSON text", kind, data)
	}
	return f
}

// NextOf reads the next frame of type typ, skipping frames of other types.
func (c *Chatter) NextOf(typ string) ChatFrame {
	c.T.Helper()
	for {
		if f := c.Next(); f.Type == typ {
			return f
		}
	}
}

// Say sends a message.
func (c *Chatter) Say(body string) {
	c.T.Helper()
	c.SendRaw(websocket.TextMessage, fmt.Appendf(nil, `{"type":"message","body":%q}`, body))
}

// SendRaw sends one frame exactly as given.
func (c *Chatter) SendRaw(kind int, data []byte) {
	c.T.Helper()
	_ = c.Conn.SetWriteDeadline(time.Now().Add(chatWait))
	if err := c.Conn.WriteMessage(kind, data); err != nil {
		c.T.Fatalf("send: %v", err)
	}
}

// Closed reads until the server closes and returns its close code.
func (c *Chatter) Closed() int {
	c.T.Helper()
	_ = c.Conn.SetReadDeadline(time.Now().Add(chatWait))
	for {
		if _, _, err := c.Conn.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) {
				c.T.Fatalf("connection ended without a close frame: %v", err)
			}
			return ce.Code
		}
	}
}

// ChatMessages returns every message stored in room, oldest first.
func ChatMessages(t testing.TB, st *store.Store, room string) []models.ChatMessage {
	t.Helper()
	ms, err := st.RecentChatMessages(context.Background(), room, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}
