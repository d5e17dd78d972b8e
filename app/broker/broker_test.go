package broker

import (
	"context"
	"errors"
	"log/slog"
	"testing"
)

func TestPublishWakesOnlyTheTopicsSubscribersWithoutBlocking(t *testing.T) {
	m := NewMemory()
	a, b := m.Subscribe("notifications"), m.Subscribe("chat:general")
	defer b.Close()
	ctx := context.Background()
	// Many publishes with nobody reading must not block: wake-ups coalesce.
	for range 100 {
		if err := m.Publish(ctx, "notifications"); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-a.C():
	default:
		t.Fatal("subscriber was not woken")
	}
	select {
	case <-b.C():
		t.Fatal("other topic woken")
	default:
	}
	a.Close()
	a.Close() // closing twice is harmless
	m.Publish(ctx, "notifications")
	select {
	case <-a.C():
		t.Fatal("closed subscription still woken")
	default:
	}
	if len(m.subs["notifications"]) != 0 {
		t.Fatal("closed subscription still registered")
	}
}

func TestWakeAllWakesEveryTopic(t *testing.T) {
	m := NewMemory()
	a, b := m.Subscribe("notifications"), m.Subscribe("chat:general")
	defer a.Close()
	defer b.Close()
	m.wakeAll()
	for _, s := range []*Subscription{a, b} {
		select {
		case <-s.C():
		default:
			t.Fatal("a subscriber was not woken")
		}
	}
}

// A SubscribeFunc callback runs inside Publish, once per publish, only for
// its topic, and no more once closed.
func TestSubscribeFuncRunsInsidePublish(t *testing.T) {
	m := NewMemory()
	ctx := context.Background()
	calls := 0
	s := m.SubscribeFunc("user.7", func() { calls++ })
	m.Publish(ctx, "user.7")
	m.Publish(ctx, "user.8")
	m.wakeAll()
	if calls != 2 {
		t.Fatalf("callback ran %d times, want 2 (its topic, then wake-all)", calls)
	}
	s.Close()
	m.Publish(ctx, "user.7")
	if calls != 2 || len(m.subs) != 0 {
		t.Fatalf("closed callback ran (%d calls) or is still registered (%v)", calls, m.subs)
	}
}

// WakeLocal wakes its topic's subscribers, at once, and no other topic's.
func TestWakeLocalWakesItsTopic(t *testing.T) {
	m := NewMemory()
	a, b := m.Subscribe("user:7"), m.Subscribe("user:8")
	defer a.Close()
	defer b.Close()
	m.WakeLocal("user:7")
	select {
	case <-a.C():
	default:
		t.Fatal("subscriber was not woken")
	}
	select {
	case <-b.C():
		t.Fatal("another topic woken")
	default:
	}
}

// SaveThenPublishEach publishes every topic save returns, and none when
// save fails.
func TestSaveThenPublishEachPublishesWhatSaveFound(t *testing.T) {
	m := NewMemory()
	a, b, c := m.Subscribe("user:1"), m.Subscribe("user:2"), m.Subscribe("user:3")
	for _, s := range []*Subscription{a, b, c} {
		defer s.Close()
	}
	log := slog.New(slog.DiscardHandler)
	err := SaveThenPublishEach(context.Background(), m, log, func(context.Context) ([]string, error) {
		return []string{"user:1", "user:2"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Subscription{a, b} {
		select {
		case <-s.C():
		default:
			t.Fatal("a topic save returned was not published")
		}
	}
	failed := errors.New("refused")
	err = SaveThenPublishEach(context.Background(), m, log, func(context.Context) ([]string, error) {
		return []string{"user:3"}, failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("got %v, want save's error", err)
	}
	select {
	case <-c.C():
		t.Fatal("published after a failed save")
	default:
	}
}
