package stream_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"beacon/app/models"
	"beacon/app/stream"
)

// A change of a user's groups reaches their open stream in position order
// with the notifications: `reset` comes before any change past it, even
// when the wake-up on the user's topic is late (here: never sent), so no
// change past it goes out by the old groups and a client cut off before
// the reset resumes from before the change (and is reset then).
func TestMembershipChangeResetsTheStreamBeforeAnyLaterChange(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, stream.Options{Heartbeat: time.Hour})
	ann := models.User{Name: "ann", Email: "ann@example.com", PasswordHash: "x"}
	if err := r.store.CreateUser(ctx, &ann); err != nil {
		t.Fatal(err)
	}
	if _, err := r.store.CreateGroup(ctx, "ops", false); err != nil {
		t.Fatal(err)
	}
	var held atomic.Int64 // taken-over streams
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		sr := stream.Request{UserID: ann.ID, LastEventID: req.Header.Get("Last-Event-ID"), Request: req,
			SignedIn: func() bool { return true },
			TakenOver: func() func() {
				held.Add(1)
				return func() { held.Add(-1) }
			}}
		if err := r.hub.Stream(req.Context(), w, sr); err != nil {
			t.Errorf("stream: %v", err)
		}
	}))
	t.Cleanup(srv.Close)

	r.post(t, "first") // a position for the membership change to follow
	if _, err := r.store.AddGroupMembers(ctx, "ops", []string{ann.Email}); err != nil {
		t.Fatal(err)
	}
	start := r.post(t, "start")
	toOps := &models.Notification{Title: "for ops", Level: "info"}
	a, err := r.store.Address(ctx, []string{"group:ops"})
	if err != nil {
		t.Fatal(err)
	}
	a.Apply(toOps)
	r.create(t, toOps)
	r.publish(t)
	s := openEvents(t, srv.URL, fmt.Sprint(start))
	if got, want := s.until(t, toOps.ID), []string{fmt.Sprintf("notification %d for ops", toOps.ID)}; !equal(got, want) {
		t.Fatalf("ann in ops: %q, want %q", got, want)
	}

	// Once the hub owns her stream (one still in its handler hears of the
	// change on her topic), she leaves ops; nobody tells her topic. The
	// next post is the hub's first look past the change.
	waitUntil(t, "the stream is taken over", func() bool { return held.Load() == 1 })
	if _, err := r.store.RemoveGroupMembers(ctx, "ops", []string{ann.Email}); err != nil {
		t.Fatal(err)
	}
	later := r.post(t, "later")
	ev := s.next(t)
	for ev.kind == "unread" {
		ev = s.next(t)
	}
	if ev.kind != "reset" || ev.id >= later {
		t.Fatalf("after ann left ops, the stream sent %s %d (%s) first, want reset before %d", ev.kind, ev.id, ev.title, later)
	}
	if ev := s.next(t); ev.kind != "notification" || ev.id != later {
		t.Fatalf("after the reset: %s %d, want notification %d", ev.kind, ev.id, later)
	}
}
