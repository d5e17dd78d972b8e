package broker

import (
	"context"
	"testing"
)

func TestPublishWakesOnlyTheTopicsSubscribersWithoutBlocking(t *testing.T) {
	m := NewMemory()
	a, b := m.Subscribe("notifications"), m.Subscribe("chat:general")
	defer b.Close()
	ctx := context.Background()
	// Many publishes with nobody reading must not block: wake-ups coalesce.
	for id := int64(1); id <= 100; id++ {
		if err := m.Publish(ctx, "notifications", id); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-a.C():
	default:
		t.Fatal("subscriber was not woken")
	}
	select {
	case id := <-b.C():
		t.Fatalf("other topic woken with %d", id)
	default:
	}
	a.Close()
	a.Close() // closing twice is harmless
	m.Publish(ctx, "notifications", 101)
	select {
	case <-a.C():
		t.Fatal("closed subscription still woken")
	default:
	}
	if len(m.subs["notifications"]) != 0 {
		t.Fatal("closed subscription still registered")
	}
}
