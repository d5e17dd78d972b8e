package stream

import "time"

// Tuning of the upkeep of taken-over connections.
const (
	// stallRetry is how often a connection whose socket was full is tried
	// again, when nothing new is queued for it.
	stallRetry = 250 * time.Millisecond
	// hangupSweep is the longest a connection whose client hung up is
	// held (its connection-limit lease and the subscriber gauge with it):
	// one non-blocking read per connection, about a microsecond each.
	hangupSweep = 2 * time.Second
	// sweepSteps is how many steps a sweep is spread over, each for the
	// connections of one slot: at 10,000 connections a step is a
	// millisecond or two, not a burst of 10,000 reads that a fan-out would
	// wait behind.
	sweepSteps = 16
)

// maintain tries stalled connections again, and every hangupSweep (or
// heartbeat, when that is shorter) lets go of swept connections whose
// client hung up: a write would find out only at the second heartbeat
// after. Only a plain socket the hang-up watch did not take is swept
// (every one where there is no watch; on Linux, one it could not add); a
// connection that is not a plain socket is found by a failed write. A
// sweep is spread over sweepSteps steps, each looking at one slot.
func (h *Hub) maintain(done <-chan struct{}) {
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
				if c.sock.peerGone(scratch) {
					// Gone, or closed meanwhile (a closed one reads as
					// gone): either way the sweep is done with it.
					h.mu.Lock()
					delete(h.swept[slot], c)
					h.mu.Unlock()
					h.release(c)
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
func (h *Hub) hungUp(c *streamConn) bool {
	if !c.sock.peerGone(h.hangupScratch[:]) {
		return false
	}
	h.release(c)
	return true
}
