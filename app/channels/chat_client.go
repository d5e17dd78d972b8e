package channels

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
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

// chatClient is one WebSocket connection: exactly one read pump and one
// write pump, and a bounded queue between the hub and the write pump.
type chatClient struct {
	conn  *websocket.Conn
	user  models.User
	opts  *ChatOptions
	qmu   sync.Mutex
	queue [][]byte      // frames to write, at most sendBuffer; guarded by qmu
	ready chan struct{} // the queue has frames
	// signedIn reports whether the user's session still exists.
	signedIn func() bool
	// check asks the write pump to call signedIn: the user's topic woke.
	check chan struct{}
	// allowed is the user's message allowance, shared by their sockets.
	allowed *rate.Limiter

	once        sync.Once
	done        chan struct{} // closed by drop: the write pump closes the connection
	closeCode   int           // set before done is closed
	closeReason string
	failed      bool // the close is for what the peer sent: it may still be sending
	evicted     bool // the close is for a full queue: do not write what is in it
}

func newChatClient(conn *websocket.Conn, user models.User, opts *ChatOptions) *chatClient {
	return &chatClient{conn: conn, user: user, opts: opts, ready: make(chan struct{}, 1), check: make(chan struct{}, 1), done: make(chan struct{})}
}

// offer queues frame without blocking and reports whether there was room.
// The queue is a slice, not a buffered channel: an idle client holds a few
// hundred bytes of it instead of sendBuffer slots.
func (c *chatClient) offer(frame []byte) bool {
	c.qmu.Lock()
	if len(c.queue) >= sendBuffer {
		c.qmu.Unlock()
		return false
	}
	c.queue = append(c.queue, frame)
	c.qmu.Unlock()
	select {
	case c.ready <- struct{}{}:
	default: // the write pump is woken already
	}
	return true
}

// take returns the queued frames and leaves spare, emptied, as the queue:
// the write pump and the hub swap two slices.
func (c *chatClient) take(spare [][]byte) [][]byte {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	q := c.queue
	c.queue = spare[:0]
	return q
}

// writeQueued writes what is queued and returns the emptied slice, for
// the next take, or the error of a write.
func (c *chatClient) writeQueued(spare [][]byte) ([][]byte, error) {
	batch := c.take(spare)
	for i, frame := range batch {
		if err := c.write(frame); err != nil {
			return nil, err
		}
		batch[i] = nil // written: the frame may go
	}
	if cap(batch) > keptQueue {
		return nil, nil
	}
	return batch, nil
}

// drop asks the write pump to write what is queued, then close the
// connection with code; the first call (of drop, fail or evict) wins.
func (c *chatClient) drop(code int, reason string) { c.end(code, reason, false, false) }

// fail is drop for a frame that broke a rule.
func (c *chatClient) fail(code int, reason string) { c.end(code, reason, true, false) }

// evict is drop for a client whose queue is full: it is not reading.
func (c *chatClient) evict() {
	c.end(websocket.ClosePolicyViolation, "too slow: fell behind the room", false, true)
}

func (c *chatClient) end(code int, reason string, failed, evicted bool) {
	c.once.Do(func() {
		c.closeCode, c.closeReason, c.failed, c.evicted = code, reason, failed, evicted
		close(c.done)
	})
}

// recheck asks c to check its session soon, without blocking: one pending
// check covers any number of wake-ups.
func (c *chatClient) recheck() {
	select {
	case c.check <- struct{}{}:
	default:
	}
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
	strikes := rate.NewLimiter(strikeRefill, floodStrikes)
	for {
		kind, data, err := conn.ReadMessage()
		switch {
		case errors.Is(err, websocket.ErrReadLimit):
			// gorilla has sent the 1009 close frame already.
			c.fail(websocket.CloseMessageTooBig, "frame over 8 KiB")
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

// writePump writes queued frames and pings until drop is called or a
// write fails, then closes the connection.
func (c *chatClient) writePump(readerDone <-chan struct{}) {
	defer c.conn.Close()
	ping := time.NewTicker(pingPeriod)
	defer ping.Stop()
	var spare [][]byte
	for {
		select {
		case <-c.ready:
			var err error
			if spare, err = c.writeQueued(spare); err != nil {
				return
			}
		case <-c.check:
			if !c.signedIn() {
				c.drop(websocket.ClosePolicyViolation, sessionEnded)
			}
		case <-ping.C:
			if !c.signedIn() {
				c.drop(websocket.ClosePolicyViolation, sessionEnded)
				continue // the done case closes
			}
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				return
			}
		case <-c.done:
			c.close(readerDone)
			return
		}
	}
}

// close sends the close frame drop asked for, and gives the peer a moment
// to read it before the connection is closed.
func (c *chatClient) close(readerDone <-chan struct{}) {
	if c.closeCode == closeSilently {
		return
	}
	// The last frames often say why (the refusals before a flood's 1008).
	if !c.evicted {
		if _, err := c.writeQueued(nil); err != nil {
			return
		}
	}
	c.writeClose(c.closeCode, c.closeReason)
	grace := time.Now().Add(closeGrace)
	// The reader ends when the peer answers with its close frame.
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	select {
	case <-readerDone:
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
