package stream

import (
	"slices"
	"sync"

	"beacon/app/audience"
)

// Subscription is one stream or long poll: a bounded queue that the hub
// fills without ever blocking, and a signal for when the hub has let it go.
type Subscription struct {
	userID int64
	groups []int64 // the user's groups, under the hub's mu (see regroup)
	fields Fields  // what its stream asked for; AllFields for a long poll
	queue  chan *Event
	done   chan struct{}
	once   sync.Once
}

// Events delivers the frames queued for this subscription, in position order.
func (s *Subscription) Events() <-chan *Event { return s.queue }

// Done is closed when the hub drops the subscription: it fell behind, or
// the hub is shutting down.
func (s *Subscription) Done() <-chan struct{} { return s.done }

func (s *Subscription) drop() { s.once.Do(func() { close(s.done) }) }

// Subscribe registers a subscription for user userID (0: a visitor), in
// groups (sorted). It receives every change delivered from now on that the
// user may see.
func (h *Hub) Subscribe(userID int64, groups []int64) *Subscription {
	return h.subscribe(userID, groups, AllFields)
}

// subscribe is Subscribe for a stream that asked for fields.
func (h *Hub) subscribe(userID int64, groups []int64, fields Fields) *Subscription {
	s := &Subscription{userID: userID, groups: groups, fields: fields, queue: make(chan *Event, h.opts.QueueSize), done: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		s.drop()
		return s
	}
	h.subs[s] = struct{}{}
	return s
}

// Unsubscribe releases s.
func (h *Hub) Unsubscribe(s *Subscription) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
	s.drop()
}

// Subscribers is how many subscriptions the hub holds.
func (h *Hub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs) + len(h.conns)
}

// viewer is who s's user is now.
// Called with h.mu held.
func (s *Subscription) viewer() audience.Viewer { return audience.Member(s.userID, s.groups) }

// regroup records that the user of sub, a stream its handler serves, is
// now in groups: what the hub offers it from now on follows them. The
// handler's goroutine writes the reset before any event offered after this.
func (h *Hub) regroup(sub *Subscription, groups []int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	sub.groups = groups
}

// connGroups is c's groups, as regroup left them.
func (h *Hub) connGroups(c *streamConn) []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return c.groups
}

// regroupConn records that c's user is now in groups and queues `reset`
// on c at the last position it was given, in one step under the hub's
// lock: every event offered to c before it went by the old groups, every
// one after by the new, so a client that reads the reset reloads past
// both, and one cut before it resumes from before the change (and is reset
// then, see Request.regroupedAt).
func (h *Hub) regroupConn(c *streamConn, groups []int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c.groups = groups
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.pending = append(c.pending, &Event{Frame: regroupedFrame(c.last)})
	}
}

// regroupUser moves user userID's taken-over streams whose groups are not
// groups to them, in position order with the hub's fan-out
// (regroupsBetween), and queues `reset` on each at the last position it was
// given; one too far behind to queue it is let go (its client comes back
// from before the change, and is reset then: Request.regroupedAt). A
// stream still in its handler, or replaying, hears of the change on the
// user's topic, as before: its replay may already have gone past the
// change by the old groups, and letting it go here would lose the reset
// its handler then sends.
func (h *Hub) regroupUser(userID int64, groups []int64) {
	var behind []*streamConn
	h.mu.Lock()
	for c := range h.conns {
		if c.userID != userID || slices.Equal(c.groups, groups) {
			continue
		}
		c.groups = groups
		c.mu.Lock()
		took, schedule := c.queue(&Event{Frame: regroupedFrame(c.last)}, h.opts.QueueSize, 1)
		c.mu.Unlock()
		switch {
		case schedule:
			h.writers.push(c)
		case !took:
			delete(h.conns, c)
			behind = append(behind, c)
		}
	}
	h.mu.Unlock()
	for _, c := range behind {
		c.close()
		h.users.unwatch(c)
	}
}
