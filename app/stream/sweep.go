package stream

import (
	"sync"
	"time"
)

// Tuning of the hang-up sweep.
const (
	// hangupSweep is the longest a connection whose client hung up is
	// held (its connection-limit lease and the subscriber gauge with it):
	// one non-blocking read per connection.
	hangupSweep = 2 * time.Second
	// sweepSteps is how many steps a sweep is spread over, each for the
	// connections of one slot: at 10,000 connections a step is a
	// millisecond or two, not a burst of 10,000 reads that a fan-out would
	// wait behind.
	sweepSteps = 16
)

// connSweep finds the taken-over connections whose client hung up: the
// hang-up watch is told of most (hangup_linux.go); the sweep looks at the
// others, a slot at a time.
type connSweep struct {
	watch   *hangupWatch      // nil where there is none: then every one is swept
	release func(*streamConn) // the hub's
	scratch [512]byte         // what hungUp reads into

	mu    sync.Mutex
	slots [sweepSteps]map[*streamConn]struct{}
	next  uint8 // the slot of the next connection added
}

func newConnSweep(watch *hangupWatch, release func(*streamConn)) *connSweep {
	s := &connSweep{watch: watch, release: release}
	for i := range s.slots {
		s.slots[i] = make(map[*streamConn]struct{})
	}
	return s
}

// add has c's hang-up found: by the watch, or else by the sweep. Only a
// plain socket can be; one that is not is found by a failed write.
func (s *connSweep) add(c *streamConn) {
	if c.sock == nil || s.watch != nil && s.watch.watch(c) {
		return
	}
	s.mu.Lock()
	s.slots[s.next][c] = struct{}{}
	s.next = (s.next + 1) % sweepSteps
	s.mu.Unlock()
}

// run, every hangupSweep (or heartbeat, when that is shorter), lets go of
// swept connections whose client hung up: a write would find out only at
// the second heartbeat after. A sweep is spread over sweepSteps steps,
// each looking at one slot.
func (s *connSweep) run(done <-chan struct{}, heartbeat time.Duration) {
	sweep := time.NewTicker(max(time.Millisecond, min(heartbeat, hangupSweep)/sweepSteps))
	defer sweep.Stop()
	scratch := make([]byte, 512)
	var slot uint8
	var due []*streamConn
	for {
		select {
		case <-done:
			return
		case <-sweep.C:
		}
		s.mu.Lock()
		for c := range s.slots[slot] {
			due = append(due, c)
		}
		s.mu.Unlock()
		for _, c := range due {
			if c.sock.peerGone(scratch) {
				// Gone, or closed meanwhile (a closed one reads as gone):
				// either way the sweep is done with it.
				s.mu.Lock()
				delete(s.slots[slot], c)
				s.mu.Unlock()
				s.release(c)
			}
		}
		clear(due)
		due = due[:0]
		slot = (slot + 1) % sweepSteps
	}
}

// hungUp is the hang-up watch's look at a connection it was told of: a
// read that finds the client gone lets c go. The watch calls it from one
// goroutine, so one scratch buffer serves.
func (s *connSweep) hungUp(c *streamConn) bool {
	if !c.sock.peerGone(s.scratch[:]) {
		return false
	}
	s.release(c)
	return true
}

// swept is how many connections the sweep looks at.
func (s *connSweep) swept() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, slot := range s.slots {
		n += len(slot)
	}
	return n
}
