package stream

import (
	"beacon/app/broker"
	"net"
	"net/http"
)

// The take-over: once a stream's replay is written on a plain HTTP/1.x
// connection, the hub owns the socket (a streamConn, conn.go) and its
// handler returns, so an idle stream keeps no goroutine.

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
func (h *Hub) adopt(conn net.Conn, sub *Subscription, sent, stateSeq int64, req Request, reads *broker.Subscription) {
	c := &streamConn{conn: conn, sock: newSocket(conn), userID: req.UserID, fields: req.Fields, start: sent, last: sent,
		stateSeq: stateSeq, hangups: h.sweep.watch}
	if req.TakenOver != nil {
		c.ended = req.TakenOver()
	}
	// Its groups, before its user's wake-ups can reach it (regroupConn).
	h.mu.Lock()
	c.groups, c.groupsAt = sub.groups, sub.groupsAt
	h.mu.Unlock()
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
	if sub.groupsAt > c.groupsAt {
		// A change the hub's look recorded on sub since c was made; its
		// mark, queued on sub, is moved to c below.
		c.groups, c.groupsAt = sub.groups, sub.groupsAt
	}
	push := false
	for more := true; more; {
		select {
		case ev := <-sub.queue:
			if ev.regrouped {
				ev = &Event{Frame: regroupedFrame(c.last)}
			}
			e := ev.For(c.start)
			if e == nil {
				continue
			}
			// c.mu: c is already its user's watch's, whose wake-ups
			// queue on it.
			c.mu.Lock()
			_, sched := c.queue(e, h.opts.QueueSize, 1) // skips what the replay sent
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
