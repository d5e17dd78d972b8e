package channels

import (
	"errors"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"time"

	"beacon/app/broker"
)

// takeOverStreams switches the taken-over path on: once a stream's headers
// and replay are written, the hub owns its connection, so an idle stream
// keeps no goroutine and no buffers. Off, every stream stays in its handler.
const takeOverStreams = true

// Tuning of the taken-over path.
const (
	// fallbackWait bounds one write to a connection that cannot be written
	// without waiting (one that is not a plain socket).
	fallbackWait = 2 * time.Millisecond
	// stallRetry is how often a connection whose socket was full is tried
	// again, when nothing new is queued for it.
	stallRetry = 250 * time.Millisecond
	// minWriters is the least number of shared writer goroutines.
	minWriters = 4
	// hangupSweep is the longest a connection whose client hung up is
	// held (its connection-limit lease and the subscriber gauge with it):
	// one non-blocking read per connection, about a microsecond each.
	hangupSweep = 2 * time.Second
	// sweepSteps is how many steps a sweep is spread over, each for the
	// connections of one slot: at 10,000 connections a step is a
	// millisecond or two, not a burst of 10,000 reads that a fan-out would
	// wait behind.
	sweepSteps = 16
	// pushBatch is how many connections offer hands to the writers at
	// once: they start writing while it visits the rest.
	pushBatch = 256
	// writeGap is the least time between two writes to one connection:
	// what comes sooner waits and goes with what follows, in one write.
	// A write (its syscall, and on loopback the client's side of TCP) is
	// most of a delivery's cost, so a busy stream costs a write per gap,
	// not one per event; a quiet one is written at once.
	writeGap = 50 * time.Millisecond
	// yieldEvery is how many connections a writer writes before it lets
	// other goroutines run: about a tenth of a millisecond of writes.
	yieldEvery = 16
	// paceTick is how finely paced connections are handed back.
	paceTick = 5 * time.Millisecond
)

var errStalled = errors.New("stream stalled")

// streamConn is a stream whose connection the hub took over: the hub's
// broadcast queues frames on it, a shared writer writes them.
type streamConn struct {
	conn     net.Conn
	sock     *socket // nil: not a plain socket, written with a short deadline
	userID   int64
	fields   Fields
	signedIn func() bool  // nil for visitors
	watch    *userWatch   // nil for visitors; set before the hub shares c
	ended    func()       // StreamRequest.TakenOver's release, or nil
	hangups  *hangupWatch // the hub's, or nil; hangupID is c's id in it
	hangupID uint64       // under hangups.mu

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
	if !takeOverStreams || r == nil || r.ProtoMajor != 1 || r.TLS != nil {
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
func (h *NotificationHub) adopt(conn net.Conn, sub *Subscription, sent int64, req StreamRequest, reads *broker.Subscription) {
	c := &streamConn{conn: conn, sock: newSocket(conn), userID: req.UserID, fields: req.Fields, last: sent, hangups: h.hangups}
	if req.TakenOver != nil {
		c.ended = req.TakenOver()
	}
	if req.UserID != 0 {
		c.signedIn = req.SignedIn
		h.watch(c)
		if reads != nil {
			select {
			case <-reads.C():
				h.userWoke(c.watch)
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
	for more := true; more; {
		select {
		case ev := <-sub.queue:
			c.queue(ev, h.opts.QueueSize) // skips what the replay sent
		default:
			more = false
		}
	}
	h.conns[c] = struct{}{}
	if h.hangups == nil || !h.hangups.watch(c) {
		h.swept[h.nextSlot][c] = struct{}{}
		h.nextSlot = (h.nextSlot + 1) % sweepSteps
	}
	if c.scheduled {
		h.writers.push(c)
	}
	h.mu.Unlock()
	sub.drop()
}

// release lets c go: the hub forgets it and its connection closes.
func (h *NotificationHub) release(c *streamConn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	c.close()
	h.unwatch(c)
}

// schedule hands c to a writer if it has something to write.
func (h *NotificationHub) schedule(c *streamConn) {
	c.mu.Lock()
	due := !c.closed && !c.scheduled && (len(c.pending) > 0 || len(c.rest) > 0)
	if due {
		c.scheduled = true
	}
	c.mu.Unlock()
	if due {
		h.writers.push(c)
	}
}

// writeLoop is one shared writer: it writes each connection handed to it
// until nothing is pending or its socket is full. No write ever waits.
func (h *NotificationHub) writeLoop() {
	var buf []byte
	for n := 1; ; n++ {
		c, ok := h.writers.take()
		if !ok {
			return
		}
		buf = h.flush(c, buf)
		if n%yieldEvery == 0 {
			// Under a steady load the queue is never empty, so a writer
			// would keep its processor until the runtime preempts it,
			// 10 ms later: an API call waiting behind the writers waited
			// that long at each step.
			runtime.Gosched()
		}
	}
}

// flush writes c's pending frames in one write, again until none are left,
// and returns buf, the writer's scratch space, for reuse. While a tail that
// the socket did not take waits, new frames stay pending, so a client that
// stops reading fills its queue and is let go.
func (h *NotificationHub) flush(c *streamConn, buf []byte) []byte {
	for {
		c.mu.Lock()
		if c.closed || (c.watch != nil && c.watch.held.Load()) || (len(c.pending) == 0 && len(c.rest) == 0) {
			// Held: the user's session is being checked; the check
			// schedules c again.
			c.scheduled = false
			c.mu.Unlock()
			return buf
		}
		now := time.Now()
		if due := c.wrote.Add(writeGap); len(c.rest) == 0 && now.Before(due) && len(c.pending) < h.opts.QueueSize/2 {
			// Written a moment ago: what came since waits for the gap
			// (still scheduled), unless it fills the queue meanwhile.
			c.mu.Unlock()
			h.writers.pace(c, due)
			return buf
		}
		out, evs := c.rest, []*Event(nil)
		if len(out) == 0 {
			evs = c.pending
			c.pending, c.spare = c.spare[:0], nil
		}
		c.mu.Unlock()

		switch {
		case len(evs) == 1:
			// The frame as it is: no copy.
			out = evs[0].FrameFor(c.fields)
			evs[0] = nil
		case evs != nil:
			buf = buf[:0]
			for i, ev := range evs {
				buf = append(buf, ev.FrameFor(c.fields)...)
				evs[i] = nil
			}
			out = buf
		}
		n, err := c.writeNow(out)

		c.mu.Lock()
		if evs != nil {
			c.spare = evs[:0]
		}
		stalled := err == nil && n < len(out)
		if n > 0 {
			c.wrote = now
		}
		switch {
		case !stalled:
			c.rest, c.stalled = nil, time.Time{}
		case evs != nil:
			// Only a slow client costs a copy.
			c.rest = append([]byte(nil), out[n:]...)
		default:
			c.rest = out[n:]
		}
		if stalled {
			if c.stalled.IsZero() {
				c.stalled = time.Now()
			} else if time.Since(c.stalled) > writeTimeout {
				err = errStalled
			}
		}
		if err != nil || stalled {
			c.scheduled = false
		}
		c.mu.Unlock()
		if err != nil {
			h.release(c)
			return buf
		}
		if stalled {
			h.writers.stall(c)
			return buf
		}
	}
}

// maintain tries stalled connections again, and every hangupSweep (or
// heartbeat, when that is shorter) lets go of swept connections whose
// client hung up: a write would find out only at the second heartbeat
// after. Only a connection the hang-up watch could not take is swept (on
// Linux, one that is not a plain socket; elsewhere, every one). A sweep
// is spread over sweepSteps steps, each looking at one slot's connections.
func (h *NotificationHub) maintain(done <-chan struct{}) {
	retry := time.NewTicker(stallRetry)
	defer retry.Stop()
	sweep := time.NewTicker(max(time.Millisecond, min(h.opts.Heartbeat, hangupSweep)/sweepSteps))
	defer sweep.Stop()
	scratch := make([]byte, 512)
	var slot uint8
	var due []*streamConn
	for {
		select {
		case <-done:
			return
		case <-retry.C:
			for _, c := range h.writers.takeStalled() {
				h.schedule(c)
			}
		case <-sweep.C:
			h.mu.Lock()
			for c := range h.swept[slot] {
				due = append(due, c)
			}
			h.mu.Unlock()
			for _, c := range due {
				if c.sock == nil || c.sock.peerGone(scratch) {
					// Gone, or closed meanwhile (a closed one reads as
					// gone): either way the sweep is done with it.
					gone := c.sock != nil
					h.mu.Lock()
					delete(h.swept[slot], c)
					h.mu.Unlock()
					if gone {
						h.release(c)
					}
				}
			}
			clear(due)
			due = due[:0]
			slot = (slot + 1) % sweepSteps
		}
	}
}

// hungUp is the hang-up watch's look at a connection it was told of: a
// read that finds the client gone lets c go. The watch calls it from one
// goroutine, so one scratch buffer serves.
func (h *NotificationHub) hungUp(c *streamConn) bool {
	if !c.sock.peerGone(h.hangupScratch[:]) {
		return false
	}
	h.release(c)
	return true
}

// connWriters is the queue of connections waiting for a shared writer.
type connWriters struct {
	mu   sync.Mutex
	cond sync.Cond
	// ready[head:] wait; the array is kept, so a burst allocates only
	// when it is the largest yet.
	ready   []*streamConn
	head    int
	stalled []*streamConn
	paced   []pacedConn
	pacing  chan struct{} // wakes the pacer when paced was empty
	closed  bool
}

// pacedConn is a connection waiting for its writeGap.
type pacedConn struct {
	c   *streamConn
	due time.Time
}

func newConnWriters() *connWriters {
	w := &connWriters{pacing: make(chan struct{}, 1)}
	w.cond.L = &w.mu
	return w
}

func (w *connWriters) push(cs ...*streamConn) {
	if len(cs) == 0 {
		return
	}
	w.mu.Lock()
	w.ready = append(w.ready, cs...)
	w.mu.Unlock()
	if len(cs) == 1 {
		w.cond.Signal()
	} else {
		w.cond.Broadcast()
	}
}

// take waits for a connection to write; false once the hub stops.
func (w *connWriters) take() (*streamConn, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.head == len(w.ready) && !w.closed {
		w.cond.Wait()
	}
	if w.closed {
		return nil, false
	}
	c := w.ready[w.head]
	w.ready[w.head] = nil
	w.head++
	switch {
	case w.head == len(w.ready):
		w.ready, w.head = w.ready[:0], 0
	case w.head > len(w.ready)/2 && w.head >= 1024:
		// Never drained under a steady load: keep the array from growing.
		n := copy(w.ready, w.ready[w.head:])
		clear(w.ready[n:])
		w.ready, w.head = w.ready[:n], 0
	}
	return c, true
}

func (w *connWriters) stall(c *streamConn) {
	w.mu.Lock()
	w.stalled = append(w.stalled, c)
	w.mu.Unlock()
}

// pace holds c, still scheduled, until due.
func (w *connWriters) pace(c *streamConn, due time.Time) {
	w.mu.Lock()
	w.paced = append(w.paced, pacedConn{c, due})
	first := len(w.paced) == 1
	w.mu.Unlock()
	if first {
		select {
		case w.pacing <- struct{}{}:
		default:
		}
	}
}

// runPacer hands paced connections back to the writers as they fall due,
// paceTick at the finest, until done.
func (w *connWriters) runPacer(done <-chan struct{}) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		w.mu.Lock()
		now, next, moved := time.Now(), time.Time{}, 0
		keep := w.paced[:0]
		for _, p := range w.paced {
			if !p.due.After(now) {
				w.ready = append(w.ready, p.c)
				moved++
				continue
			}
			keep = append(keep, p)
			if next.IsZero() || p.due.Before(next) {
				next = p.due
			}
		}
		clear(w.paced[len(keep):])
		w.paced = keep
		w.mu.Unlock()
		if moved > 0 {
			w.cond.Broadcast()
		}
		wake := w.pacing
		if !next.IsZero() {
			timer.Reset(max(paceTick, time.Until(next)))
			wake = nil
		}
		select {
		case <-done:
			return
		case <-wake:
		case <-timer.C:
		}
	}
}

func (w *connWriters) takeStalled() []*streamConn {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.stalled
	w.stalled = nil
	return s
}

func (w *connWriters) close() {
	w.mu.Lock()
	w.closed = true
	w.ready, w.head, w.stalled, w.paced = nil, 0, nil, nil
	w.mu.Unlock()
	w.cond.Broadcast()
}
