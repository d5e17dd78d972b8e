package chat_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"beacon/app/apptest"
	"beacon/app/chat"
	"beacon/app/models"
)

// readRig serves the rig's hub as the controller does: Upgrade, then
// Serve with the connection's read buffer.
func readRig(t *testing.T, r *chatRig, u models.User) *httptest.Server {
	t.Helper()
	up := &websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		conn, br, err := chat.Upgrade(up, w, req)
		if err != nil {
			return
		}
		r.hub.Serve(req.Context(), conn, chat.Request{User: u, Room: "general", SignedIn: func() bool { return true }, Reader: br})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func dialRead(t *testing.T, srv *httptest.Server) *websocket.Conn {
	t.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	t.Cleanup(func() { conn.Close() })
	return conn
}

// clientFrame is one final client frame, masked as RFC 6455 requires.
func clientFrame(op byte, payload []byte) []byte {
	b := []byte{0x80 | op}
	if n := len(payload); n < 126 {
		b = append(b, 0x80|byte(n))
	} else {
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	}
	mask := [4]byte{0x11, 0x22, 0x33, 0x44}
	b = append(b, mask[:]...)
	for i, c := range payload {
		b = append(b, c^mask[i%4])
	}
	return b
}

func sayFrame(body string) []byte {
	return clientFrame(websocket.TextMessage, fmt.Appendf(nil, `{"type":"message","body":%q}`, body))
}

// Between messages the read pump skips pongs itself; frames that arrive
// together, pongs among them, are all read, in order; a ping is answered.
func TestChatReadSkipsPongsAndReadsFramesThatArriveTogether(t *testing.T) {
	rig := newChatRig(t, chat.Options{})
	srv := readRig(t, rig, rig.user(t, "Ann"))
	conn := dialRead(t, srv)
	ann, _, _ := apptest.Join(t, conn)
	raw := conn.NetConn()

	var burst []byte
	burst = append(burst, clientFrame(websocket.PongMessage, nil)...)
	burst = append(burst, clientFrame(websocket.PongMessage, bytes.Repeat([]byte("p"), 125))...)
	burst = append(burst, sayFrame("one")...)
	burst = append(burst, clientFrame(websocket.PongMessage, []byte("x"))...)
	burst = append(burst, sayFrame("two")...)
	if _, err := raw.Write(burst); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"one", "two"} {
		if f := ann.NextOf("message"); f.Body != want {
			t.Fatalf("got %q, want %q", f.Body, want)
		}
	}

	// A pong cut in two, then a message.
	pong := clientFrame(websocket.PongMessage, []byte("half and half"))
	for _, part := range [][]byte{pong[:3], pong[3:], sayFrame("three")} {
		if _, err := raw.Write(part); err != nil {
			t.Fatal(err)
		}
	}
	if f := ann.NextOf("message"); f.Body != "three" {
		t.Fatalf("got %q, want three", f.Body)
	}

	// A ping is gorilla's to answer.
	ponged := make(chan string, 1)
	conn.SetPongHandler(func(data string) error { ponged <- data; return nil })
	if _, err := raw.Write(append(clientFrame(websocket.PingMessage, []byte("hi")), sayFrame("four")...)); err != nil {
		t.Fatal(err)
	}
	if f := ann.NextOf("message"); f.Body != "four" {
		t.Fatalf("got %q, want four", f.Body)
	}
	select {
	case data := <-ponged:
		if data != "hi" {
			t.Fatalf("pong %q, want hi", data)
		}
	case <-time.After(wait):
		t.Fatal("no pong for the ping")
	}
}

// An idle socket's read pump waits outside gorilla's read, also after a
// pong: that is what keeps its stack small. (In gorilla's read, a pong is
// handled and the read goes on waiting for a message inside it.)
func TestChatIdleReadPumpWaitsOutsideGorilla(t *testing.T) {
	rig := newChatRig(t, chat.Options{})
	srv := readRig(t, rig, rig.user(t, "Ann"))
	conn := dialRead(t, srv)
	ann, _, _ := apptest.Join(t, conn)
	ann.Say("hello")
	if f := ann.NextOf("message"); f.Body != "hello" {
		t.Fatalf("got %q", f.Body)
	}
	if _, err := conn.NetConn().Write(clientFrame(websocket.PongMessage, []byte("still here"))); err != nil {
		t.Fatal(err)
	}
	// Had gorilla read the pong, the pump would wait inside its read from
	// then on. A single sample may catch the pump running (reading the pong),
	// so it must be found parked outside gorilla 30 samples in a row, and is
	// failed if found inside gorilla's read three in a row.
	deadline := time.Now().Add(wait)
	parked, inside := 0, 0
	for parked < 30 {
		waiting, inGorilla := readPumps(t)
		switch {
		case waiting == 1 && inGorilla == 0:
			parked, inside = parked+1, 0
		case inGorilla == 1:
			parked, inside = 0, inside+1
		default:
			parked, inside = 0, 0
		}
		if inside == 3 || time.Now().After(deadline) {
			t.Fatalf("read pumps: %d waiting outside gorilla, %d inside its read", waiting, inGorilla)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readPumps counts the chat read pumps parked in awaitReadable, and those
// inside gorilla's read.
func readPumps(t *testing.T) (waiting, inGorilla int) {
	t.Helper()
	var b bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&b, 2); err != nil {
		t.Fatal(err)
	}
	for _, g := range strings.Split(b.String(), "\n\n") {
		if !strings.Contains(g, "(*chatClient).readPump") {
			continue
		}
		switch {
		case strings.Contains(g, "awaitReadable"):
			waiting++
		case strings.Contains(g, "websocket.(*Conn).advanceFrame"):
			inGorilla++
		}
	}
	return waiting, inGorilla
}

// A frame that only looks like a pong is left to gorilla, which refuses an
// unmasked client frame.
func TestChatReadLeavesAMalformedPongToGorilla(t *testing.T) {
	rig := newChatRig(t, chat.Options{})
	srv := readRig(t, rig, rig.user(t, "Ann"))
	conn := dialRead(t, srv)
	ann, _, _ := apptest.Join(t, conn)
	if _, err := conn.NetConn().Write([]byte{0x80 | websocket.PongMessage, 0}); err != nil {
		t.Fatal(err)
	}
	if code := ann.Closed(); code != websocket.CloseProtocolError {
		t.Fatalf("closed with %d, want %d", code, websocket.CloseProtocolError)
	}
}
