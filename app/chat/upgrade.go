package chat

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"syscall"

	"github.com/gorilla/websocket"
)

// chatReadBuffer is the size of a chat socket's read buffer, which an
// idle socket holds: a frame's header and any control frame fit it;
// messages longer than it are read in pieces. Over 256 bytes, or gorilla
// would not read through it; 288 is an allocation size class.
const chatReadBuffer = 288

// Upgrade upgrades the request with u, as u.Upgrade does, and returns
// the buffer the connection is read through as well: given to Serve (as
// Request.Reader), it lets an idle socket wait for its next frame on a small stack. u's
// ReadBufferSize must be 0 (the buffer is chatReadBuffer bytes).
func Upgrade(u *websocket.Upgrader, w http.ResponseWriter, r *http.Request) (*websocket.Conn, *bufio.Reader, error) {
	if u.ReadBufferSize != 0 {
		return nil, nil, errors.New("chat: Upgrade needs an Upgrader without a ReadBufferSize")
	}
	hw := &ownBuffer{ResponseWriter: w}
	conn, err := u.Upgrade(hw, r, nil)
	if err != nil {
		return nil, nil, err
	}
	return conn, hw.br, nil
}

// ownBuffer hands gorilla a read buffer of ours when it takes the
// connection over: gorilla reads through the hijacked reader when its
// Upgrader has no ReadBufferSize.
type ownBuffer struct {
	http.ResponseWriter
	br *bufio.Reader
}

func (w *ownBuffer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("chat: the response cannot be taken over")
	}
	conn, brw, err := h.Hijack()
	if err != nil || brw.Reader.Buffered() > 0 {
		// gorilla refuses a client that sent data before the handshake
		// was done.
		return conn, brw, err
	}
	w.br = bufio.NewReaderSize(conn, chatReadBuffer)
	return conn, bufio.NewReadWriter(w.br, brw.Writer), nil
}

// rawConn is conn's socket, or nil when conn is not a plain one (the read
// pump then waits inside gorilla's read).
func rawConn(conn net.Conn) syscall.RawConn {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}
