// Package broker carries "something new at id N on topic T" from whoever
// stored it to every hub that serves it. A message is only a wake-up: the
// database's ids are the truth, so a hub that wakes reads everything after
// the last id it handled, and a wake-up that is coalesced or arrives out of
// order loses nothing.
//
// Memory serves one process. A PostgreSQL LISTEN/NOTIFY broker for several
// instances will hand out the same Subscription.
package broker

import (
	"context"
	"sync"
)

// Subscription receives the ids published on one topic.
type Subscription struct {
	c       chan int64
	release func(*Subscription)
	once    sync.Once
}

func newSubscription(release func(*Subscription)) *Subscription {
	// One slot: a wake-up that is already pending covers later ones.
	return &Subscription{c: make(chan int64, 1), release: release}
}

// C delivers published ids. It is never closed; select on your own
// context to stop.
func (s *Subscription) C() <-chan int64 { return s.c }

// Close stops delivery to s.
func (s *Subscription) Close() {
	s.once.Do(func() { s.release(s) })
}

// wake offers id to s without ever blocking the publisher.
func (s *Subscription) wake(id int64) {
	select {
	case s.c <- id:
	default:
	}
}

// Memory is an in-process broker.
type Memory struct {
	mu   sync.Mutex
	subs map[string]map[*Subscription]struct{}
}

// NewMemory returns an empty in-process broker.
func NewMemory() *Memory {
	return &Memory{subs: make(map[string]map[*Subscription]struct{})}
}

// Publish wakes every subscriber of topic. Call it after the row with this
// id is committed.
func (m *Memory) Publish(_ context.Context, topic string, id int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for s := range m.subs[topic] {
		s.wake(id)
	}
	return nil
}

// Subscribe starts delivery of topic's ids.
func (m *Memory) Subscribe(topic string) *Subscription {
	s := newSubscription(func(s *Subscription) {
		m.mu.Lock()
		defer m.mu.Unlock()
		delete(m.subs[topic], s)
		if len(m.subs[topic]) == 0 {
			delete(m.subs, topic)
		}
	})
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.subs[topic] == nil {
		m.subs[topic] = make(map[*Subscription]struct{})
	}
	m.subs[topic][s] = struct{}{}
	return s
}
