package stream

import (
	"beacon/app/broker"
	"context"
	"sync"
	"sync/atomic"
)

// userWatch is one signed-in user's taken-over streams and the hub's one
// subscription to that user's topic, however many tabs they have open.
type userWatch struct {
	id    int64
	unsub func()
	conns map[*streamConn]struct{} // under userWatches.mu
	// held is set from the moment the user's topic wakes (inside Publish,
	// so before a sign-out's response) until their sessions were checked:
	// nothing is written to their streams meanwhile.
	held  atomic.Bool
	dirty bool // under userWatches.dirtyMu: waiting for answerUsers
}

// userWatches are the hub's userWatch by user id.
type userWatches struct {
	mu    sync.Mutex
	users map[int64]*userWatch

	dirtyMu sync.Mutex // taken inside the broker's lock: nothing else under it
	dirty   []*userWatch
	woke    chan struct{}
}

func newUserWatches() *userWatches {
	return &userWatches{users: make(map[int64]*userWatch), woke: make(chan struct{}, 1)}
}

// watch follows c's user's topic for c.
func (h *Hub) watch(c *streamConn) {
	u := h.users
	u.mu.Lock()
	defer u.mu.Unlock()
	w := u.users[c.userID]
	if w == nil {
		w = &userWatch{id: c.userID, conns: make(map[*streamConn]struct{})}
		sub := h.broker.SubscribeFunc(broker.UserTopic(c.userID), func() { h.userWoke(w) })
		w.unsub = sub.Close
		u.users[c.userID] = w
	}
	w.conns[c] = struct{}{}
	c.watch = w
}

// unwatch forgets c, and the user's topic with their last stream.
func (h *Hub) unwatch(c *streamConn) {
	w := c.watch
	if w == nil {
		return
	}
	u := h.users
	u.mu.Lock()
	delete(w.conns, c)
	last := len(w.conns) == 0 && u.users[w.id] == w
	if last {
		delete(u.users, w.id)
	}
	u.mu.Unlock()
	if last {
		w.unsub()
	}
}

// userWoke is the broker's callback for w's topic: hold w's streams and
// have answerUsers look at them. It runs under the broker's lock.
func (h *Hub) userWoke(w *userWatch) {
	u := h.users
	u.dirtyMu.Lock()
	w.held.Store(true)
	if !w.dirty {
		w.dirty = true
		u.dirty = append(u.dirty, w)
	}
	u.dirtyMu.Unlock()
	select {
	case u.woke <- struct{}{}:
	default:
	}
}

// answerUsers answers wake-ups on users' topics, as a stream in its
// handler does: a stream whose session ended closes; the others get the
// new unread count.
func (h *Hub) answerUsers(ctx context.Context) {
	u := h.users
	for {
		select {
		case <-ctx.Done():
			return
		case <-u.woke:
		}
		u.dirtyMu.Lock()
		ws := u.dirty
		u.dirty = nil
		for _, w := range ws {
			w.dirty = false
		}
		u.dirtyMu.Unlock()
		for _, w := range ws {
			h.answerUser(ctx, w)
		}
	}
}

func (h *Hub) answerUser(ctx context.Context, w *userWatch) {
	u := h.users
	u.mu.Lock()
	conns := make([]*streamConn, 0, len(w.conns))
	for c := range w.conns {
		conns = append(conns, c)
	}
	u.mu.Unlock()
	for _, c := range conns {
		if c.signedIn != nil && !c.signedIn() {
			h.release(c)
			continue
		}
		if err := h.queueUnread(ctx, c); err != nil {
			if ctx.Err() == nil {
				h.log.Error("notification stream: unread count", "user", c.userID, "err", err)
			}
			h.release(c) // it reconnects, and its replay counts again
		}
	}
	u.dirtyMu.Lock()
	if !w.dirty { // else a newer wake-up holds them until it is answered
		w.held.Store(false)
	}
	u.dirtyMu.Unlock()
	for _, c := range conns {
		h.schedule(c)
	}
}

// queueUnread queues c's unread count, counted through the last id queued
// before it, as the handler's stream counts through the last id it sent.
func (h *Hub) queueUnread(ctx context.Context, c *streamConn) error {
	for try := 0; ; try++ {
		c.mu.Lock()
		through, closed := c.last, c.closed
		c.mu.Unlock()
		if closed {
			return nil
		}
		n, err := h.source.UnreadCount(ctx, c.userID, through)
		if err != nil {
			return err
		}
		c.mu.Lock()
		// A notification queued during the count: count again, a few times
		// at most; the next wake-up corrects a count that stays behind.
		if c.last == through || try == 2 {
			if !c.closed {
				c.pending = append(c.pending, &Event{Frame: encodeUnread(n)})
			}
			c.mu.Unlock()
			return nil
		}
		c.mu.Unlock()
	}
}
