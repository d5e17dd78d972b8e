package controllers_test

// The chat WebSocket's handshake: who may connect, from where. The chat's
// rules once connected are the hub's (app/chat).

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

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

// Signing out in one tab closes at once, with 1008, every chat socket of
// that session (long before the next ping would look), while another
// session of the same user, and another user, keep theirs. The hub asks
// the controller's session check when the user's topic wakes; this is
// where the two meet.
func TestChatClosesWhenTheSessionEnds(t *testing.T) {
	app := apptest.New(t, apptest.Options{})
	ann := chatUser(t, app, "Ann")
	tab1, _, _ := apptest.Join(t, ann.DialChat(t, "general"))
	tab2, _, _ := apptest.Join(t, ann.DialChat(t, "other"))
	elsewhere := app.Client(t) // Ann on another device: another session
	elsewhere.Login(t, "ann@example.com", "correct horse")
	phone, _, _ := apptest.Join(t, elsewhere.DialChat(t, "general"))
	bob, _, _ := apptest.Join(t, chatUser(t, app, "Bob").DialChat(t, "general"))
	tab1.Say("before")
	for _, c := range []*apptest.Chatter{tab1, phone, bob} {
		if f := c.NextOf("message"); f.Body != "before" {
			t.Fatalf("got %+v", f)
		}
	}

	start := time.Now()
	if resp, _ := ann.PostForm(t, "/logout", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	for _, tab := range []*apptest.Chatter{tab1, tab2} {
		if code := tab.Closed(); code != websocket.ClosePolicyViolation {
			t.Fatalf("close code %d, want 1008", code)
		}
	}
	// The ping that used to find it comes every 30 s; a wake-up takes ms.
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("the sockets closed %v after sign-out", took)
	}
	phone.Say("still here")
	for _, c := range []*apptest.Chatter{phone, bob} {
		if f := c.NextOf("message"); f.Body != "still here" {
			t.Fatalf("got %+v", f)
		}
	}
	if ms := apptest.ChatMessages(t, app.Store, "general"); len(ms) != 2 {
		t.Fatalf("%d messages stored, want the one before logout and the phone's", len(ms))
	}
}

// TestChatIdleSocketMemory measures what an idle chat socket costs the
// server: N sockets of one user in one room (so presence is sent once),
// each opened through the real handshake by a raw TCP client that holds
// nothing but its connection. It is a measurement, not a CI test:
//
//	BEACON_CHAT_IDLE=2000 go test -run TestChatIdleSocketMemory -v -count=1 ./app/controllers/
//
// RSS counts the whole test process (the raw clients' few hundred bytes
// each included); heap and stack are Go's own figures.
func TestChatIdleSocketMemory(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("BEACON_CHAT_IDLE"))
	if n <= 0 {
		t.Skip("set BEACON_CHAT_IDLE=2000 to measure idle chat sockets")
	}
	// N sockets of one user from one address: the connection limits off,
	// as for beacon bench.
	app := apptest.New(t, apptest.Options{Env: map[string]string{"STREAM_LIMIT_USER": "0", "STREAM_LIMIT_ADDRESS": "0"}})
	ann := chatUser(t, app, "Ann")
	u, err := url.Parse(app.URL)
	if err != nil {
		t.Fatal(err)
	}
	var cookies []string
	for _, ck := range ann.Jar.Cookies(u) {
		cookies = append(cookies, ck.Name+"="+ck.Value)
	}
	handshake := "GET /chat/general/ws HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13" +
		"\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: " + app.Origin() +
		"\r\nCookie: " + strings.Join(cookies, "; ") + "\r\n\r\n"

	before := idleFigures(t)
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		if _, err := io.WriteString(c, handshake); err != nil {
			t.Fatal(err)
		}
		readOpening(t, c)
	}
	after := idleFigures(t)
	per := func(a, b uint64) float64 { return float64(int64(b)-int64(a)) / float64(n) / 1024 }
	t.Logf("%d idle chat sockets: RSS %.1f KiB, Go heap %.1f KiB, stacks %.1f KiB, goroutines %.2f per socket",
		n, per(before.rss, after.rss), per(before.heap, after.heap), per(before.stack, after.stack),
		float64(after.goroutines-before.goroutines)/float64(n))
}

type memFigures struct {
	rss, heap, stack uint64
	goroutines       int
}

func idleFigures(t *testing.T) memFigures {
	t.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status to read RSS from")
	}
	var rss uint64
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			rss = kb * 1024
		}
	}
	return memFigures{rss: rss, heap: ms.HeapInuse, stack: ms.StackInuse, goroutines: runtime.NumGoroutine()}
}

// readOpening reads the 101 answer, then the history and presence frames
// (small, unmasked, unfragmented) that every connection opens with: the
// socket is then in its room and idle.
func readOpening(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReaderSize(c, 512)
	status, err := br.ReadString('\n')
	if err != nil || !strings.Contains(status, " 101 ") {
		t.Fatalf("handshake: %q %v", status, err)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
	}
	for range 2 {
		var head [2]byte
		if _, err := io.ReadFull(br, head[:]); err != nil {
			t.Fatal(err)
		}
		size := int(head[1] & 0x7f)
		if size >= 126 {
			t.Fatalf("opening frame of %d: a longer one than expected", size)
		}
		if _, err := br.Discard(size); err != nil {
			t.Fatal(err)
		}
	}
	if br.Buffered() > 0 {
		t.Fatalf("%d bytes more than the opening frames", br.Buffered())
	}
}

// The page's script reconnects with ?after= the newest message it shows:
// through the whole app, a client that missed nothing gets an empty
// history, and one without after still gets the room's last messages.
func TestChatReconnectAfterTheNewestThroughTheApp(t *testing.T) {
	app := apptest.New(t, apptest.Options{})
	ann := chatUser(t, app, "Ann")
	talker, _, _ := apptest.Join(t, ann.DialChat(t, "general"))
	talker.Say("one")
	talker.Say("two")
	talker.NextOf("message")
	newest := talker.NextOf("message")

	conn, _, err := ann.DialChatRaw("/chat/general/ws?after="+strconv.FormatInt(newest.ID, 10), http.Header{"Origin": {app.Origin()}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, history, _ := apptest.Join(t, conn); len(history) != 0 {
		t.Fatalf("history of %d after the newest message, want none", len(history))
	}
	if _, history, _ := apptest.Join(t, ann.DialChat(t, "general")); len(history) != 2 || history[1].ID != newest.ID {
		t.Fatalf("history without after: %+v, want both messages", history)
	}
}
