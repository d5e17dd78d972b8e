package broker

import (
	"runtime"
	"sync"
)

// notifier sends one topic's NOTIFYs one at a time. Every NOTIFY takes
// PostgreSQL's one notification-queue lock until it commits, so at a
// thousand posts a second, one NOTIFY each, the publishers queued on that
// lock as posts had on theirs. A NOTIFY sent after a commit wakes every
// instance for it and everything committed before, so a publish that
// finds one under way waits for the next one instead, which it shares with
// every publish that came meanwhile: one NOTIFY a round trip, however many
// publish. A publish that comes before the NOTIFY under way was issued
// shares that one: the posts of one group commit together and publish a
// moment apart, and one NOTIFY covers them all (the other instances' hubs
// are woken once for them, not twice).
type notifier struct {
	mu      sync.Mutex
	sending bool
	open    *round // the round about to be sent, not yet issued; nil: none
	next    *round // the NOTIFY the publishes waiting now share; nil: none waits
}

// round is one NOTIFY that waiting publishes share.
type round struct {
	turn    chan struct{} // closed when the NOTIFY before it is done: one of its waiters sends it
	done    chan struct{} // closed when it was sent; err is set then
	claimed bool          // a waiter is sending it (under the notifier's mu)
	waiters int           // publishes sharing it (under the notifier's mu)
	err     error
}

// notify runs send, or waits for a send that starts after it was called
// (which another publish runs), and returns that send's error. Every
// waiter waits for two sends at most: the one under way and its own.
func (n *notifier) notify(send func() error) error {
	n.mu.Lock()
	if r := n.open; r != nil {
		// Issued after this call, so after this caller's commit.
		r.waiters++
		n.mu.Unlock()
		<-r.done
		return r.err
	}
	if !n.sending {
		n.sending = true
		r := &round{done: make(chan struct{}), claimed: true}
		n.open = r
		n.mu.Unlock()
		n.send(r, send)
		return r.err
	}
	r := n.next
	if r == nil {
		r = &round{turn: make(chan struct{}), done: make(chan struct{})}
		n.next = r
	}
	r.waiters++
	n.mu.Unlock()
	select {
	case <-r.done:
		return r.err
	case <-r.turn:
	}
	n.mu.Lock()
	if r.claimed {
		n.mu.Unlock()
		<-r.done
		return r.err
	}
	r.claimed, n.next = true, nil
	n.open = r
	n.mu.Unlock()
	n.send(r, send)
	return r.err
}

// send lets the publishes that can run now join r, then issues it and
// hands the turn on.
func (n *notifier) send(r *round, send func() error) {
	runtime.Gosched()
	n.mu.Lock()
	n.open = nil
	n.mu.Unlock()
	r.err = send()
	close(r.done)
	n.finish()
}

// finish ends a send and hands the turn to the round that waited for it.
func (n *notifier) finish() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sending = false
	if r := n.next; r != nil {
		n.sending = true // r's, once one of its waiters claims it
		close(r.turn)
	}
}
