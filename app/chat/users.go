package chat

import (
	"beacon/app/broker"
	"context"
	"time"

	"golang.org/x/time/rate"
)

// restSweep is the least time between two looks through Hub.resting.
const restSweep = time.Second

// chatUser is what the hub keeps for a user with connections on this
// instance, guarded by Hub.mu: their message allowance, shared by all
// their sockets, and a watch on their broker topic, so that signing out
// (on any instance) has every socket of theirs ask at once whether its
// session still exists. One watch per user, not per socket.
//
// The allowance is per instance: a user whose sockets are spread over n
// instances may send up to n times it. Browsers' tabs mostly reach one
// instance, and counting across instances would cost a database write
// per message.
type chatUser struct {
	allowed *rate.Limiter
	clients map[*chatClient]struct{}
	stop    context.CancelFunc // ends the watch
}

// enterUser records c as one of its user's connections, starting the
// user's watch when it is the first; the caller must call leaveUser.
// c checks its session once now: a sign-out just before the watch began
// woke no one.
func (h *Hub) enterUser(c *chatClient) {
	h.mu.Lock()
	defer h.mu.Unlock()
	u := h.users[c.user.ID]
	if u == nil {
		h.forgetRestedLocked(time.Now())
		allowed := h.resting[c.user.ID]
		if allowed != nil {
			delete(h.resting, c.user.ID)
		} else {
			allowed = rate.NewLimiter(h.opts.MessageRate, h.opts.MessageBurst)
		}
		ctx, stop := context.WithCancel(context.Background())
		u = &chatUser{
			allowed: allowed,
			clients: make(map[*chatClient]struct{}),
			stop:    stop,
		}
		h.users[c.user.ID] = u
		// Subscribed before c checks, so a sign-out after that check wakes it.
		wake := h.broker.Subscribe(broker.UserTopic(c.user.ID))
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			defer wake.Close()
			h.watchUser(ctx, u, wake.C())
		}()
	}
	u.clients[c] = struct{}{}
	c.allowed = u.allowed
	c.recheck()
}

// leaveUser forgets c, and the user when it was their last connection;
// their allowance rests until it is full again.
func (h *Hub) leaveUser(c *chatClient) {
	h.mu.Lock()
	defer h.mu.Unlock()
	u := h.users[c.user.ID]
	if u == nil {
		return
	}
	delete(u.clients, c)
	if len(u.clients) == 0 {
		delete(h.users, c.user.ID)
		u.stop()
		if u.allowed.Tokens() < float64(h.opts.MessageBurst) {
			h.resting[c.user.ID] = u.allowed
		}
	}
}

// forgetRestedLocked drops the resting allowances that are full again by
// now: a user coming back gets the same burst from a new one. It looks
// at most once each restSweep, from the first socket of any user: the
// map holds users who left within about the refill time (burst over
// rate) plus restSweep, and without arrivals it cannot grow. h.mu is held.
func (h *Hub) forgetRestedLocked(now time.Time) {
	if len(h.resting) == 0 || now.Sub(h.restSweptAt) < restSweep {
		return
	}
	h.restSweptAt = now
	full := float64(h.opts.MessageBurst)
	for id, allowed := range h.resting {
		if allowed.TokensAt(now) >= full {
			delete(h.resting, id)
		}
	}
}

// watchUser has each of u's connections check its session whenever the
// user's topic wakes, until ctx ends.
func (h *Hub) watchUser(ctx context.Context, u *chatUser, wake <-chan struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
			h.mu.Lock()
			for c := range u.clients {
				c.recheck()
			}
			h.mu.Unlock()
		}
	}
}
