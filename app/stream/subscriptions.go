package stream

import (
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

// regroup records that the user of sub (while the handler serves it) or c
// (once taken over) is now in groups: what the hub sends it from now on
// follows them.
func (h *Hub) regroup(sub *Subscription, c *streamConn, groups []int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if sub != nil {
		sub.groups = groups
	}
	if c != nil {
		c.groups = groups
	}
}

// connGroups is c's groups, as regroup left them.
func (h *Hub) connGroups(c *streamConn) []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return c.groups
}
