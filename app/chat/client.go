package chat

// Why the read pump reads under gorilla. Parked in gorilla's ReadMessage,
// an idle socket's pump holds a 4 KiB stack, and the client's pong each
// ping period is handled inside that read, which goes on waiting there;
// parked in awaitFrame, it holds 2 KiB. Waiting outside gorilla is safe
// only because the pump sees the very bytes gorilla reads: gorilla reads a
// server connection through the bufio.Reader it hijacked when the
// Upgrader has no ReadBufferSize and that reader is over 256 bytes
// (gorilla/websocket v1.5 server.go), so Upgrade hands it one of ours at
// the hijack (ownBuffer, chatReadBuffer bytes, which an idle socket holds)
// and gives the pump the same reader (Request.Reader, c.br). Between
// messages gorilla keeps no state of the next frame, so awaitFrame may
// wait on the socket (on Linux a MSG_PEEK, which leaves the bytes there),
// fill that reader and discard whole, well-formed pongs at its head;
// anything else is gorilla's. With any other reader those bytes would vanish from gorilla's
// stream: hence Upgrade refuses a ReadBufferSize, ownBuffer steps aside
// when bytes came before the handshake (gorilla refuses those anyway), and
// without a known reader or raw socket the pump waits in gorilla.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"beacon/app/models"
)

// A chat connection's bounds and timing, as gorilla's chat example names
// them.
const (
	// chatReadLimit is the largest frame a client may send; a bigger one
	// closes the connection with 1009.
	chatReadLimit = 8 << 10
	// sendBuffer is how many frames a client may have pending before it
	// is evicted.
	sendBuffer = 256
	// keptQueue is the largest queue capacity a client keeps between
	// writes: a busy room's clients reuse their queues, and one that
	// queued a burst gives the memory back once it is written.
	keptQueue  = 16
	writeWait  = 10 * time.Second // bound on one write
	pingPeriod = 30 * time.Second
	pongWait   = pingPeriod * 3 / 2 // silence after which a client is dropped
	closeGrace = time.Second        // how long a close waits for the peer's answer
	// floodStrikes is how many refused messages a client may send (one
	// strike comes back each 1/strikeRefill) before it is disconnected.
	floodStrikes = 20
	strikeRefill = rate.Limit(1)
)

// sessionEnded is the close reason when the user signed out elsewhere.
const sessionEnded = "session ended: sign in again"

// closeSilently marks a connection the peer already left: there is no one
// to send a close frame to.
const closeSilently = 0

// chatClient is one WebSocket connection: one read pump, and a bounded
// queue between the hub and a writer. An idle client has no writer: one
// is started when there is something to send (a frame, a ping, a session
// check, the close) and ends once that is written, so an idle socket
// holds one goroutine, not two.
type chatClient struct {
	conn *websocket.Conn
	// br is what conn reads through, when known (Upgrade): between
	// messages the read pump waits for the next frame itself, parked on
	// a small stack, and skips pongs, instead of waiting inside gorilla's
	// read, which takes a stack twice the size. nil: it waits in gorilla.
	br      *bufio.Reader
	raw     syscall.RawConn // conn's socket; nil when it is not a plain one
	scratch [1]byte         // awaitReadable's peek
	user    chatPerson
	opts    *Options
	// signedIn reports whether the user's session still exists.
	signedIn func() bool
	// allowed is the user's message allowance, shared by their sockets.
	allowed *rate.Limiter
	// pings is the allowance of pings answered (pings_from_client.go),
	// made at the first; only the read pump uses it.
	pings *rate.Limiter
	// pingSlot is which second of each ping period the hub pings c in, so
	// that sockets opened together are not all pinged at once.
	pingSlot int

	mu          sync.Mutex
	queue       [][]byte // frames to write, at most sendBuffer
	spare       [][]byte // the emptied slice of the last write, for the next
	writing     bool     // a writer runs; it looks at everything below before it ends
	checkDue    bool     // ask signedIn: the user's topic woke
	pingDue     bool     // ask signedIn, then ping
	ending      bool     // end was called: the writer closes the connection
	closeCode   int      // set with ending
	closeReason string
	failed      bool // the close is for what the peer sent: it may still be sending
	evicted     bool // the close is for a full queue: do not write what is in it

	// Made by end, which both the read pump and the writer's close come
	// after: an idle socket holds no channel.
	readerDone chan struct{} // closed when the read pump has returned
	closed     chan struct{} // closed once the connection is closed
}

// chatPerson is what a connection keeps of its user: not the whole row
// (an email and a password hash per socket, for hours).
type chatPerson struct {
	ID   int64
	Name string
}

func newChatClient(conn *websocket.Conn, user models.User, opts *Options) *chatClient {
	return &chatClient{conn: conn, user: chatPerson{user.ID, user.Name}, opts: opts}
}

// offer queues frame without blocking and reports whether there was room.
// The queue is a slice, not a buffered channel: an idle client holds a few
// hundred bytes of it instead of sendBuffer slots.
func (c *chatClient) offer(frame []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) >= sendBuffer {
		return false
	}
	c.queue = append(c.queue, frame)
	c.wakeLocked()
	return true
}

// wakeLocked starts c's writer unless one runs: it will see what changed.
// Called with c.mu held.
func (c *chatClient) wakeLocked() {
	if !c.writing {
		c.writing = true
		go c.writeLoop()
	}
}

// drop asks the writer to write what is queued, then close the
// connection with code; the first call (of drop, fail or evict) wins.
func (c *chatClient) drop(code int, reason string) { c.end(code, reason, false, false) }

// fail is drop for a frame that broke a rule.
func (c *chatClient) fail(code int, reason string) { c.end(code, reason, true, false) }

// evict is drop for a client whose queue is full: it is not reading.
func (c *chatClient) evict() {
	c.end(websocket.ClosePolicyViolation, "too slow: fell behind the room", false, true)
}

func (c *chatClient) end(code int, reason string, failed, evicted bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ending {
		return
	}
	c.ending = true
	c.readerDone, c.closed = make(chan struct{}), make(chan struct{})
	c.closeCode, c.closeReason, c.failed, c.evicted = code, reason, failed, evicted
	c.wakeLocked()
}

// ping asks c to check its session and ping its peer, without blocking.
func (c *chatClient) ping() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pingDue = true
	c.wakeLocked()
}

// recheck asks c to check its session soon, without blocking: one pending
// check covers any number of wake-ups.
func (c *chatClient) recheck() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checkDue = true
	c.wakeLocked()
}

// refuse tells the client its frame was refused; the connection stays.
func (c *chatClient) refuse(msg string) {
	if !c.offer(errorFrame(msg)) {
		c.evict()
	}
}

// readPump reads the client's frames until it leaves or breaks a rule,
// and hands each valid message body to post.
func (c *chatClient) readPump(ctx context.Context, post func(body string) error) {
	conn := c.conn
	conn.SetReadLimit(chatReadLimit)
	alive := func(string) error { return conn.SetReadDeadline(time.Now().Add(pongWait)) }
	_ = alive("")
	conn.SetPongHandler(alive)
	conn.SetPingHandler(c.answerPing)
	var strikes *rate.Limiter // made at the first refusal: most clients never need one
	for {
		if !c.awaitFrame() {
			c.drop(closeSilently, "")
			return
		}
		kind, data, err := conn.ReadMessage()
		switch {
		case errors.Is(err, websocket.ErrReadLimit):
			// gorilla has sent the 1009 close frame already.
			c.fail(websocket.CloseMessageTooBig, "frame over 8 KiB")
			return
		case errors.Is(err, errPingFlood):
			c.fail(websocket.ClosePolicyViolation, errPingFlood.Error())
			return
		case err != nil:
			c.drop(closeSilently, "")
			return
		}
		_ = alive("")
		// gorilla does not check that text frames are UTF-8; RFC 6455 says
		// to fail the connection with 1007.
		if kind == websocket.TextMessage && !utf8.Valid(data) {
			c.fail(websocket.CloseInvalidFramePayloadData, "text is not UTF-8")
			return
		}
		if !c.allowed.Allow() {
			if strikes == nil {
				strikes = rate.NewLimiter(strikeRefill, floodStrikes)
			}
			if !strikes.Allow() {
				c.fail(websocket.ClosePolicyViolation, "flooding: too many messages")
				return
			}
			c.refuse(fmt.Sprintf("too many messages: slow down to %g per second", float64(c.opts.MessageRate)))
			continue
		}
		body, problem := parseChatFrame(kind, data)
		if problem != "" {
			c.refuse(problem)
			continue
		}
		if !c.signedIn() {
			c.fail(websocket.ClosePolicyViolation, sessionEnded)
			return
		}
		if err := post(body); err != nil {
			if ctx.Err() != nil {
				c.drop(websocket.CloseGoingAway, "server shutting down")
				return
			}
			c.refuse("your message could not be saved, try again")
		}
	}
}

// awaitFrame returns once a frame other than a pong has begun to arrive
// (gorilla reads it), or reports that the connection can no longer be
// read. Called between messages, when gorilla has read a whole message and
// the buffer holds the start of the next frame, if anything. A pong is
// discarded here: in gorilla's read it would be answered, and the read
// would go on waiting for a message on the deep stack.
func (c *chatClient) awaitFrame() bool {
	if c.br == nil || c.raw == nil {
		return true
	}
	for {
		if c.br.Buffered() == 0 && !awaitReadable(c.raw, &c.scratch) {
			return false
		}
		if !c.skipPong() {
			return true
		}
	}
}

// skipPong discards the frame at the head of c.br, and reports whether it
// did, when it is a whole, well-formed pong from a client: final, masked,
// no reserved bits, a payload under 126 bytes. Anything else is left for
// gorilla, and so are its errors.
func (c *chatClient) skipPong() bool {
	head, err := c.br.Peek(2)
	if err != nil || head[0] != 0x80|websocket.PongMessage || head[1]&0x80 == 0 || head[1]&0x7f > 125 {
		return false
	}
	n := 2 + 4 + int(head[1]&0x7f) // header, mask key, payload
	if _, err := c.br.Peek(n); err != nil {
		return false
	}
	_, _ = c.br.Discard(n)
	_ = c.conn.SetReadDeadline(time.Now().Add(pongWait))
	return true
}

// writeLoop is c's writer: it writes what is queued, checks the session
// and pings when asked, and returns once there is nothing left to do; or,
// once end was called, closes the connection.
func (c *chatClient) writeLoop() {
	for {
		c.mu.Lock()
		switch {
		case c.ending:
			c.mu.Unlock()
			c.close() // writing stays true: no writer starts again
			return
		case c.checkDue || c.pingDue:
			ping := c.pingDue
			c.checkDue, c.pingDue = false, false
			c.mu.Unlock()
			if !c.signedIn() {
				c.drop(websocket.ClosePolicyViolation, sessionEnded)
			} else if ping {
				if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
					c.drop(closeSilently, "")
				}
			}
			continue
		case len(c.queue) == 0:
			c.writing = false
			c.mu.Unlock()
			return
		}
		batch := c.queue
		c.queue, c.spare = c.spare[:0], nil
		c.mu.Unlock()
		if err := c.writeAll(batch); err != nil {
			c.drop(closeSilently, "")
			continue
		}
		if cap(batch) <= keptQueue {
			// A busy room's clients reuse their queues; one that queued a
			// burst gives the memory back once it is written.
			c.mu.Lock()
			c.spare = batch[:0]
			c.mu.Unlock()
		}
	}
}

// writeAll writes frames, letting each go once written.
func (c *chatClient) writeAll(frames [][]byte) error {
	defer clear(frames)
	for _, frame := range frames {
		if err := c.write(frame); err != nil {
			return err
		}
	}
	return nil
}

// close sends the close frame end asked for, gives the peer a moment to
// read it, then closes the connection.
func (c *chatClient) close() {
	defer close(c.closed)
	defer c.conn.Close()
	if c.closeCode == closeSilently {
		return
	}
	// The last frames often say why (the refusals before a flood's 1008).
	if !c.evicted {
		c.mu.Lock()
		batch := c.queue
		c.queue = nil
		c.mu.Unlock()
		if err := c.writeAll(batch); err != nil {
			return
		}
	}
	c.writeClose(c.closeCode, c.closeReason)
	grace := time.Now().Add(closeGrace)
	// The reader ends when the peer answers with its close frame.
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	select {
	case <-c.readerDone:
	case <-t.C:
		return
	}
	if c.failed {
		// The peer may still be sending what we refused: read it away, or
		// closing with unread data resets the connection and the peer may
		// never see our close frame.
		nc := c.conn.NetConn()
		_ = nc.SetReadDeadline(grace)
		_, _ = io.Copy(io.Discard, nc)
	}
}

// closeNow closes a connection that never started its pumps.
func (c *chatClient) closeNow(code int, reason string) {
	c.writeClose(code, reason)
	_ = c.conn.Close()
}

// write writes one text frame, bounded by writeWait.
func (c *chatClient) write(frame []byte) error {
	_ = c.conn.SetWriteDeadline(time.Now().Add(writeWait))
	return c.conn.WriteMessage(websocket.TextMessage, frame)
}

// writeClose sends a close frame, bounded by writeWait.
func (c *chatClient) writeClose(code int, reason string) {
	msg := websocket.FormatCloseMessage(code, reason)
	_ = c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(writeWait))
}
