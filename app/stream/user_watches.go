package stream

import (
	"beacon/app/broker"
	"context"
	"log/slog"
	"math"
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

// userWatches are the hub's userWatch by user id: they answer wake-ups on
// the users' topics for the streams the hub took over, by userChange.
type userWatches struct {
	broker   broker.Subscriber
	source   userSource
	release  func(*streamConn) // the hub's, for a stream that ends
	groups   connGroups        // the hub's, which moves a stream to new groups
	schedule func(*streamConn) // the writers', once a user's streams are answered
	log      *slog.Logger

	mu    sync.Mutex
	users map[int64]*userWatch

	dirtyMu sync.Mutex // taken inside the broker's lock: nothing else under it
	dirty   []*userWatch
	woke    chan struct{}
}

// connGroups moves a taken-over stream to new groups, which the hub keeps
// under its lock.
type connGroups interface {
	regroupConn(c *streamConn, groups []int64, since int64) bool
}

func newUserWatches(b broker.Subscriber, source userSource, groups connGroups, release, schedule func(*streamConn), log *slog.Logger) *userWatches {
	return &userWatches{
		broker: b, source: source, groups: groups, release: release, schedule: schedule, log: log,
		users: make(map[int64]*userWatch), woke: make(chan struct{}, 1),
	}
}

// watch follows c's user's topic for c.
func (u *userWatches) watch(c *streamConn) {
	u.mu.Lock()
	defer u.mu.Unlock()
	w := u.users[c.userID]
	if w == nil {
		w = &userWatch{id: c.userID, conns: make(map[*streamConn]struct{})}
		sub := u.broker.SubscribeFunc(broker.UserTopic(c.userID), func() { u.woken(w) })
		w.unsub = sub.Close
		u.users[c.userID] = w
	}
	w.conns[c] = struct{}{}
	c.watch = w
}

// unwatch forgets c, and the user's topic with their last stream.
func (u *userWatches) unwatch(c *streamConn) {
	w := c.watch
	if w == nil {
		return
	}
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

// woken is the broker's callback for w's topic: hold w's streams and
// have run look at them. It runs under the broker's lock.
func (u *userWatches) woken(w *userWatch) {
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

// run answers wake-ups on users' topics until ctx ends.
func (u *userWatches) run(ctx context.Context) {
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
			u.answer(ctx, w)
		}
	}
}

func (u *userWatches) answer(ctx context.Context, w *userWatch) {
	u.mu.Lock()
	conns := make([]*streamConn, 0, len(w.conns))
	for c := range w.conns {
		conns = append(conns, c)
	}
	u.mu.Unlock()
	from := int64(math.MaxInt64)
	for _, c := range conns {
		c.mu.Lock()
		from = min(from, c.stateSeq)
		c.mu.Unlock()
	}
	look := newUserLook(ctx, u.source, w.id, from)
	for _, c := range conns {
		end, err := u.queueChange(c, look)
		if err != nil && ctx.Err() == nil {
			u.log.Error("notification stream: user's state", "user", c.userID, "err", err)
		}
		if end || err != nil {
			u.release(c) // after an error it reconnects, and its replay counts again
		}
	}
	u.dirtyMu.Lock()
	if !w.dirty { // else a newer wake-up holds them until it is answered
		w.held.Store(false)
	}
	u.dirtyMu.Unlock()
	for _, c := range conns {
		u.schedule(c)
	}
}

// queueChange queues on c what userChange says, counted through the last
// position queued before it, as the handler's stream counts through the
// last it sent. look is shared by the user's streams answered with c.
func (u *userWatches) queueChange(c *streamConn, look *userLook) (end bool, err error) {
	// Only the first try moves c to the user's groups (regroupConn queues
	// its reset itself, once); the others are told what it did.
	moved, regrouped := false, false
	regroup := func(groups []int64, since int64) bool {
		if !moved {
			moved, regrouped = true, u.groups.regroupConn(c, groups, since)
		}
		return regrouped
	}
	for try := 0; ; try++ {
		c.mu.Lock()
		through, stateSeq, closed := c.last, c.stateSeq, c.closed
		c.mu.Unlock()
		if closed {
			return false, nil
		}
		st, err := userChange(look, c.signedIn, regroup, through, stateSeq)
		if st.end || err != nil {
			return st.end, err
		}
		c.mu.Lock()
		// A notification queued during the count: count again, a few times
		// at most; the next wake-up corrects a count that stays behind.
		if c.last == through || try == 2 {
			if !c.closed {
				if st.state != nil {
					c.pending = append(c.pending, &Event{Frame: st.state})
				}
				c.stateSeq = st.stateSeq
				c.pending = append(c.pending, &Event{Frame: st.unread})
			}
			c.mu.Unlock()
			return false, nil
		}
		c.mu.Unlock()
	}
}
