// Package broker carries wake-ups: "something changed on topic T" from
// whoever committed it to every hub that serves T. A wake-up carries no
// data: the database is the truth, so a hub that wakes reads everything
// after its own cursor, and a wake-up that is coalesced, late or lost
// (see Postgres, which wakes everyone after it reconnects) loses nothing.
//
// Memory serves one process; Postgres reaches every instance on one
// database. Both hand out the same Subscription.
package broker

import (
	"context"
	"sync"
)

// Subscription receives the wake-ups of one topic.
type Subscription struct {
	c       chan struct{}
	f       func() // set by SubscribeFunc instead of c
	release func(*Subscription)
	once    sync.Once
}

// C fires when the topic was published to since the last receive. It is
// never closed; select on your own context to stop. It is nil for a
// subscription taken with SubscribeFunc.
func (s *Subscription) C() <-chan struct{} { return s.c }

// Close stops delivery to s.
func (s *Subscription) Close() {
	s.once.Do(func() { s.release(s) })
}

// wake signals s without ever blocking the publisher. One slot: a wake-up
// that is already pending covers later ones.
func (s *Subscription) wake() {
	if s.f != nil {
		s.f()
		return
	}
	select {
	case s.c <- struct{}{}:
	default:
	}
}

// local is the subscriptions of this process, by topic. Both brokers
// deliver through it.
type local struct {
	mu   sync.Mutex
	subs map[string]map[*Subscription]struct{}
}

func newLocal() local {
	return local{subs: make(map[string]map[*Subscription]struct{})}
}

// wakeTopic wakes every subscriber of topic in this process.
func (l *local) wakeTopic(topic string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for s := range l.subs[topic] {
		s.wake()
	}
}

// WakeLocal wakes topic's subscribers in this process only, never another
// instance's: for what every instance learns by itself (each polls the
// group_changes log), which Publish through PostgreSQL would make every
// instance hear once per instance.
func (l *local) WakeLocal(topic string) { l.wakeTopic(topic) }

// wakeAll wakes every subscriber of every topic: after wake-ups may have
// been lost, each re-reads from its cursor.
func (l *local) wakeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, subs := range l.subs {
		for s := range subs {
			s.wake()
		}
	}
}

// Subscribe starts delivery of topic's wake-ups.
func (l *local) Subscribe(topic string) *Subscription {
	return l.add(topic, &Subscription{c: make(chan struct{}, 1)})
}

// SubscribeFunc calls f at each of topic's wake-ups, from the publisher's
// goroutine and under the broker's lock: f must return at once and must
// not call the broker. It lets one owner follow many topics (a hub, every
// signed-in user's) without a goroutine per topic.
func (l *local) SubscribeFunc(topic string, f func()) *Subscription {
	return l.add(topic, &Subscription{f: f})
}

func (l *local) add(topic string, s *Subscription) *Subscription {
	s.release = func(s *Subscription) {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.subs[topic], s)
		if len(l.subs[topic]) == 0 {
			delete(l.subs, topic)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.subs[topic] == nil {
		l.subs[topic] = make(map[*Subscription]struct{})
	}
	l.subs[topic][s] = struct{}{}
	return s
}

// Memory is an in-process broker.
type Memory struct {
	local
}

// NewMemory returns an empty in-process broker.
func NewMemory() *Memory {
	return &Memory{local: newLocal()}
}

// Publish wakes every subscriber of topic. Call it after what changed is
// committed.
func (m *Memory) Publish(_ context.Context, topic string) error {
	m.wakeTopic(topic)
	return nil
}
