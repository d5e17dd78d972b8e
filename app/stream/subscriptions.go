package stream

import (
	"math"
	"slices"
	"sync"

	"beacon/app/audience"
)

// Subscription is one stream or long poll: a bounded queue that the hub
// fills without ever blocking, and a signal for when the hub has let it go.
type Subscription struct {
	userID int64
	// groups are the user's, following the change of membership at
	// position groupsAt; under the hub's mu (see regroupTo).
	groups   []int64
	groupsAt int64
	fields   Fields // what its stream asked for; AllFields for a long poll
	queue    chan *Event
	done     chan struct{}
	once     sync.Once
}

// Events delivers the frames queued for this subscription, in position
// order, with a mark (id 0, no frame) where the user's groups changed.
func (s *Subscription) Events() <-chan *Event { return s.queue }

// Done is closed when the hub drops the subscription: it fell behind, or
// the hub is shutting down.
func (s *Subscription) Done() <-chan struct{} { return s.done }

func (s *Subscription) drop() { s.once.Do(func() { close(s.done) }) }

// Subscribe registers a subscription for user userID (0: a visitor), in
// groups (sorted). It receives every change delivered from now on that the
// user may see.
func (h *Hub) Subscribe(userID int64, groups []int64) *Subscription {
	return h.subscribe(userID, groups, -1, AllFields)
}

// subscribe is Subscribe for a stream that asked for fields, with groups
// following the change of membership at groupsAt (groupsUnset: none yet).
func (h *Hub) subscribe(userID int64, groups []int64, groupsAt int64, fields Fields) *Subscription {
	s := &Subscription{userID: userID, groups: groups, groupsAt: groupsAt, fields: fields,
		queue: make(chan *Event, h.opts.QueueSize), done: make(chan struct{})}
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

// A stream's groups carry the stream position of the change of membership
// they follow (Store.Membership's since), and a regroup applies only when
// it follows a later one: the hub's look (regroupUser, in position order)
// and a wake-up on the user's topic (userChange) may both tell a stream of
// one change, in either order, and an answer read before a newer change
// must not undo it. Each change that applies with groups of its own is
// told once, by `reset`, in the stream's order.

// groupsUnset is the position of a stream's groups before its handler
// read them: whatever is read first applies, and the hub's look records
// its change on such a stream without telling it (its set-up reads the
// groups again after its replay: subscribeAndReplay).
const groupsUnset = math.MaxInt64

// regroupTo records groups, which follow the change of membership at
// position at, for a stream whose groups follow the one at *groupsAt (or
// are unset); it reports whether the stream must be reset: they apply,
// and differ from *groups. Changes made while no notification was ever
// stored all stand at position 0 (Store.Membership): among them the
// newest read applies.
func regroupTo(groups *[]int64, groupsAt *int64, to []int64, at int64) bool {
	if *groupsAt != groupsUnset && (at < *groupsAt || at == *groupsAt && at != 0) {
		return false
	}
	*groupsAt = at
	if slices.Equal(*groups, to) {
		return false
	}
	*groups = to
	return true
}

// regroup records that the user of sub, a stream its handler serves, is in
// groups since the change at position at, and reports whether they apply
// and differ: the handler then writes `reset` before any event offered
// after this.
func (h *Hub) regroup(sub *Subscription, groups []int64, at int64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return regroupTo(&sub.groups, &sub.groupsAt, groups, at)
}

// regroupConn records that c's user is in groups since the change at
// position at and, when they apply and differ, queues `reset` on c at the
// last position it was given, in one step under the hub's lock: every
// event offered to c before it went by the old groups, every one after by
// the new, so a client that reads the reset reloads past both, and one cut
// before it resumes from before the change (and is reset then, see
// Request.regroupedAt). It reports whether c is to be reset (and, unless
// c is closed, queued the reset).
func (h *Hub) regroupConn(c *streamConn, groups []int64, at int64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !regroupTo(&c.groups, &c.groupsAt, groups, at) {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.pending = append(c.pending, &Event{Frame: regroupedFrame(c.last)})
	}
	return true
}

// regroupUser moves user userID's streams to groups, which follow the
// change of membership at position at, in position order with the hub's
// fan-out (regroupsBetween): a taken-over stream is queued `reset` at the
// last position it was given, a stream in its handler a mark that its
// handler (or its take-over) turns into one. One too far behind to queue
// it is let go: its client comes back from before the change, and is reset
// then (Request.regroupedAt).
func (h *Hub) regroupUser(userID int64, groups []int64, at int64) {
	var behind []*streamConn
	h.mu.Lock()
	for c := range h.conns {
		if c.userID != userID || !regroupTo(&c.groups, &c.groupsAt, groups, at) {
			continue
		}
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
	for s := range h.subs {
		if s.userID != userID {
			continue
		}
		unset := s.groupsAt == groupsUnset
		if regroupTo(&s.groups, &s.groupsAt, groups, at) && !unset {
			h.queueSub(s, &Event{regrouped: true}, true)
		}
	}
	h.mu.Unlock()
	for _, c := range behind {
		c.close()
		h.users.unwatch(c)
	}
}
