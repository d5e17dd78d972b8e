package stream

import (
	"errors"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"beacon/app/broker"
)

// fallbackWait bounds one write to a connection that cannot be written
// without waiting (one that is not a plain socket).
const fallbackWait = 2 * time.Millisecond

// streamConn is a stream whose connection the hub took over: the hub's
// broadcast queues frames on it, a shared writer writes them.
type streamConn struct {
	conn     net.Conn
	sock     *socket // nil: not a plain socket, written with a short deadline
	userID   int64
	fields   Fields
	signedIn func() bool  // nil for visitors
	watch    *userWatch   // nil for visitors; set before the hub shares c
	ended    func()       // Request.TakenOver's release, or nil
	hangups  *hangupWatch // the hub's, or nil; hangupID is c's id in it
	hangupID uint64       // under hangups.mu
	start    int64        // where its replay ended: see Event.For

	mu        sync.Mutex
	pending   []*Event
	spare     []*Event  // pending's other buffer, so queuing allocates nothing
	rest      []byte    // the tail of a write the socket did not take
	stalled   time.Time // since when rest has waited; zero when none
	wrote     time.Time // the last write; zero before the first
	last      int64     // the newest id queued or sent
	scheduled bool      // queued for, or held by, a writer
	closed    bool
}

// burstLimit is how many frames a connection whose socket takes all it
// is given may have pending: the hub fans out a batch of changes in one
// loop, faster than a writer comes round, and a client that reads is not
// cut off for that. Past it, or past limit while its socket refuses more
// (it does not read), the connection is let go.
func burstLimit(limit int) int { return max(limit, 2*fetchBatch) }

// queue adds ev unless the connection is behind (see burstLimit) or was
// sent ev already; it reports whether it took ev and whether c must be
// handed to a writer.
// Called with c.mu held.
func (c *streamConn) queue(ev *Event, limit int) (took, schedule bool) {
	if c.closed || len(c.pending) >= limit && (len(c.rest) > 0 || len(c.pending) >= burstLimit(limit)) {
		return false, false
	}
	if ev.ID != 0 && ev.ID <= c.last {
		// The replay read it from the database before the hub fanned it
		// out: already sent.
		return true, false
	}
	c.pending = append(c.pending, ev)
	c.last = max(c.last, ev.ID)
	if c.scheduled {
		return true, false
	}
	c.scheduled = true
	return true, true
}

// close ends the connection once; it reports whether this call did.
func (c *streamConn) close() bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.closed = true
	c.pending, c.spare, c.rest = nil, nil, nil
	c.mu.Unlock()
	if c.hangups != nil {
		c.hangups.forget(c)
	}
	_ = c.conn.Close()
	if c.ended != nil {
		c.ended()
	}
	return true
}

// writeNow writes as much of p as the socket takes without waiting.
func (c *streamConn) writeNow(p []byte) (int, error) {
	if c.sock != nil {
		return c.sock.write(p)
	}
	_ = c.conn.SetWriteDeadline(time.Now().Add(fallbackWait))
	n, err := c.conn.Write(p)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = nil
	}
	return n, err
}

// canTakeOver reports whether the stream's connection may be taken over
// after its replay: a plain HTTP/1.x connection (HTTP/2 multiplexes
// streams on one; TLS needs its own writer) behind writers that reach
// net/http's own.
func canTakeOver(w http.ResponseWriter, r *http.Request) bool {
	if r == nil || r.ProtoMajor != 1 || r.TLS != nil {
		return false
	}
	for {
		if u, ok := w.(interface{ Unwrap() http.ResponseWriter }); ok {
			w = u.Unwrap()
			continue
		}
		_, ok := w.(http.Hijacker)
		return ok
	}
}

// adopt takes conn over for sub's stream, whose replay went through id
// sent. What the hub queued on sub meanwhile moves to the connection, in
// order, so the stream has no gap and no duplicate. reads is the user's
// topic the stream followed until now (nil for visitors): a wake-up still
// pending there is answered as one on the hub's own.
func (h *Hub) adopt(conn net.Conn, sub *Subscription, sent int64, req Request, reads *broker.Subscription) {
	c := &streamConn{conn: conn, sock: newSocket(conn), userID: req.UserID, fields: req.Fields, start: sent, last: sent, hangups: h.sweep.watch}
	if req.TakenOver != nil {
		c.ended = req.TakenOver()
	}
	if req.UserID != 0 {
		c.signedIn = req.SignedIn
		h.users.watch(c)
		if reads != nil {
			select {
			case <-reads.C():
				h.users.woken(c.watch)
			default:
			}
		}
	}
	h.mu.Lock()
	if _, live := h.subs[sub]; !live || h.closed {
		// Dropped meanwhile (behind, or shutting down): the client
		// reconnects with Last-Event-ID.
		h.mu.Unlock()
		h.release(c)
		return
	}
	delete(h.subs, sub)
	push := false
	for more := true; more; {
		select {
		case ev := <-sub.queue:
			e := ev.For(c.start)
			if e == nil {
				continue
			}
			// c.mu: c is already its user's watch's, whose wake-ups
			// queue on it.
			c.mu.Lock()
			_, sched := c.queue(e, h.opts.QueueSize) // skips what the replay sent
			c.mu.Unlock()
			push = push || sched
		default:
			more = false
		}
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		// Ended meanwhile (a sign-out during its adoption): nothing to hold.
		h.mu.Unlock()
		sub.drop()
		return
	}
	h.conns[c] = struct{}{}
	h.sweep.add(c)
	if push {
		// Only if this loop scheduled c: a wake-up that did meanwhile
		// handed it to a writer itself, and two must never hold it.
		h.writers.push(c)
	}
	h.mu.Unlock()
	sub.drop()
}

// release lets c go: the hub forgets it and its connection closes.
func (h *Hub) release(c *streamConn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	c.close()
	h.users.unwatch(c)
}
