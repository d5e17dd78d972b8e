package limits

import (
	"context"
	"io"
	"log/slog"
	"testing"
)

func TestAcquireRelease(t *testing.T) {
	l := New(Options{PerUser: 2, PerAddress: 3}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var leases []*Lease
	for range 3 {
		lease, ok := l.Acquire(0, "10.0.0.1")
		if !ok {
			t.Fatal("visitor refused under the limit")
		}
		leases = append(leases, lease)
	}
	if _, ok := l.Acquire(0, "10.0.0.1"); ok {
		t.Fatal("4th visitor connection admitted with a limit of 3")
	}
	if _, ok := l.Acquire(0, "10.0.0.2"); !ok {
		t.Fatal("another address refused")
	}
	// A signed-in user counts as a user, not as the address.
	for range 2 {
		if _, ok := l.Acquire(7, "10.0.0.1"); !ok {
			t.Fatal("user refused under the limit")
		}
	}
	if _, ok := l.Acquire(7, "10.0.0.9"); ok {
		t.Fatal("3rd user connection admitted with a limit of 2")
	}
	leases[0].Release()
	leases[0].Release() // twice gives back one place only
	if _, ok := l.Acquire(0, "10.0.0.1"); !ok {
		t.Fatal("refused after a release")
	}
	if _, ok := l.Acquire(0, "10.0.0.1"); ok {
		t.Fatal("a double release gave back two places")
	}
	for _, lease := range leases[1:] {
		lease.Release()
	}
	// One held (acquired after the first release): two more fit, not three.
	for i := range 3 {
		if _, ok := l.Acquire(0, "10.0.0.1"); ok != (i < 2) {
			t.Fatalf("acquire %d after the releases: %v", i, ok)
		}
	}
}

func TestZeroIsNoLimit(t *testing.T) {
	l := New(Options{}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for range 1000 {
		if _, ok := l.Acquire(0, "10.0.0.1"); !ok {
			t.Fatal("refused with the limit off")
		}
		if _, ok := l.Acquire(1, "10.0.0.1"); !ok {
			t.Fatal("refused with the limit off")
		}
	}
}

func TestHoldKeepsTheLeasePastTheHandler(t *testing.T) {
	l := New(Options{PerAddress: 1}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	lease, _ := l.Acquire(0, "a")
	ctx := WithLease(context.Background(), lease)
	held := Hold(ctx)
	lease.ReleaseUnlessHeld() // the handler returned
	if _, ok := l.Acquire(0, "a"); ok {
		t.Fatal("a held lease was released with its handler")
	}
	held.Release() // the connection ended
	if _, ok := l.Acquire(0, "a"); !ok {
		t.Fatal("still refused after the holder released")
	}
	if Hold(context.Background()) != nil {
		t.Fatal("a lease from nowhere")
	}
}
