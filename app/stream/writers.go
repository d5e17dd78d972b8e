package stream

import (
	"errors"
	"runtime"
	"sync"
	"time"
)

// Tuning of the shared writers.
const (
	// minWriters is the least number of shared writer goroutines.
	minWriters = 4
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

// stallRetry is how often a connection whose socket was full is tried
// again, when nothing new is queued for it.
const stallRetry = 250 * time.Millisecond

var errStalled = errors.New("stream stalled")

// schedule hands c to a writer if it has something to write.
func (w *connWriters) schedule(c *streamConn) {
	c.mu.Lock()
	due := !c.closed && !c.scheduled && (len(c.pending) > 0 || len(c.rest) > 0)
	if due {
		c.scheduled = true
	}
	c.mu.Unlock()
	if due {
		w.push(c)
	}
}

// writeLoop is one shared writer: it writes each connection handed to it
// until nothing is pending or its socket is full. No write ever waits.
func (w *connWriters) writeLoop() {
	var buf []byte
	for n := 1; ; n++ {
		c, ok := w.take()
		if !ok {
			return
		}
		buf = w.flush(c, buf)
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
func (w *connWriters) flush(c *streamConn, buf []byte) []byte {
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
		if due := c.wrote.Add(writeGap); len(c.rest) == 0 && now.Before(due) && len(c.pending) < w.queueSize/2 {
			// Written a moment ago: what came since waits for the gap
			// (still scheduled), unless it fills the queue meanwhile.
			c.mu.Unlock()
			w.pace(c, due)
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
			w.release(c)
			return buf
		}
		if stalled {
			w.stall(c)
			return buf
		}
	}
}

// connWriters are the shared writers of the taken-over connections and
// the queue of connections waiting for one.
type connWriters struct {
	queueSize int               // Options.QueueSize: see flush
	release   func(*streamConn) // the hub's, for a connection that failed

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

func newConnWriters(queueSize int, release func(*streamConn)) *connWriters {
	w := &connWriters{queueSize: queueSize, release: release, pacing: make(chan struct{}, 1)}
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

// retryStalled tries the connections whose socket was full again, every
// stallRetry, until done.
func (w *connWriters) retryStalled(done <-chan struct{}) {
	retry := time.NewTicker(stallRetry)
	defer retry.Stop()
	for {
		select {
		case <-done:
			return
		case <-retry.C:
		}
		w.mu.Lock()
		stalled := w.stalled
		w.stalled = nil
		w.mu.Unlock()
		for _, c := range stalled {
			w.schedule(c)
		}
	}
}

func (w *connWriters) close() {
	w.mu.Lock()
	w.closed = true
	w.ready, w.head, w.stalled, w.paced = nil, 0, nil, nil
	w.mu.Unlock()
	w.cond.Broadcast()
}
