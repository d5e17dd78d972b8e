package apptest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
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
