package stream_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"beacon/app/broker"
	"beacon/app/models"
	"beacon/app/store"
	"beacon/app/stream"
)

// duringSetUp is the store, with step run once right after the stream's
// first read of the user's membership (after) or its first unread count,
// which comes once the replay is read (afterReplay): as when a change of
// membership commits in between.
type duringSetUp struct {
	*store.Store
	once        sync.Once
	afterReplay bool
	step        func()
}

func (d *duringSetUp) Membership(ctx context.Context, userID int64) ([]int64, int64, error) {
	groups, since, err := d.Store.Membership(ctx, userID)
	if !d.afterReplay {
		d.once.Do(d.step)
	}
	return groups, since, err
}

func (d *duringSetUp) UnreadCount(ctx context.Context, userID, through int64) (int64, error) {
	if d.afterReplay {
		d.once.Do(d.step)
	}
	return d.Store.UnreadCount(ctx, userID, through)
}

// regroupRig is a hub whose store runs a step while a stream sets up, and
// a server of ann's streams.
type regroupRig struct {
	*rig
	ann   models.User
	srv   *httptest.Server
	reads *duringSetUp
}

func newRegroupRig(t *testing.T, opts stream.Options) *regroupRig {
	t.Helper()
	x := &regroupRig{reads: &duringSetUp{step: func() {}}}
	x.rig = newRigReading(t, filepath.Join(t.TempDir(), "beacon.db"), opts,
		func(st *store.Store) stream.Source { x.reads.Store = st; return x.reads })
	ctx := context.Background()
	x.ann = models.User{Name: "ann", Email: "ann@example.com", PasswordHash: "x"}
	if err := x.store.CreateUser(ctx, &x.ann); err != nil {
		t.Fatal(err)
	}
	if _, err := x.store.CreateGroup(ctx, "ops", false); err != nil {
		t.Fatal(err)
	}
	x.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		sr := stream.Request{UserID: x.ann.ID, LastEventID: req.Header.Get("Last-Event-ID"), Request: req,
			SignedIn: func() bool { return true }}
		if err := x.hub.Stream(req.Context(), w, sr); err != nil {
			t.Errorf("stream: %v", err)
		}
	}))
	t.Cleanup(x.srv.Close)
	return x
}

// postToOps stores a notification for group ops and lets the hub look.
func (x *regroupRig) postToOps(t *testing.T, title string) int64 {
	t.Helper()
	n := &models.Notification{Title: title, Level: "info"}
	a, err := x.store.Address(context.Background(), []string{"group:ops"})
	if err != nil {
		t.Fatal(err)
	}
	a.Apply(n)
	x.create(t, n)
	x.publish(t)
	return n.ID
}

// settle waits until the hub has looked at everything published so far.
func (x *regroupRig) settle(t *testing.T) {
	t.Helper()
	if !x.hub.AwaitFanout(context.Background()) {
		t.Fatal("the hub did not catch up with its wake-ups")
	}
}

// firstChange is the stream's first event that is not a count or a state.
func firstChange(t *testing.T, s *eventReader) sseEvent {
	t.Helper()
	for {
		if ev := s.next(t); ev.kind != "unread" && ev.kind != "state" {
			return ev
		}
	}
}

// A change of membership that commits while a stream replays (after its
// read of the user's groups) is not passed over: the replay may have read
// past it by the old groups, and a client cut off after such an event
// would resume from past the change, holding what the old groups chose,
// and never be reset (ann, added to ops, would get updates of a
// notification for ops she never had). The stream is reset instead.
func TestMembershipChangeDuringTheReplayResetsTheStream(t *testing.T) {
	for _, window := range []int{0, -1} { // from memory, from the database
		t.Run(fmt.Sprintf("window %d", window), func(t *testing.T) {
			x := newRegroupRig(t, stream.Options{Heartbeat: time.Hour, ResumeWindow: window})
			ctx := context.Background()
			x.postToOps(t, "for ops") // ann never had it
			start := x.post(t, "start")
			x.settle(t)
			var later int64
			x.reads.step = func() {
				if _, err := x.store.AddGroupMembers(ctx, "ops", []string{x.ann.Email}); err != nil {
					t.Error(err)
				}
				later = x.post(t, "later")
				x.settle(t)
			}
			s := openEvents(t, x.srv.URL, fmt.Sprint(start))
			if ev := firstChange(t, s); ev.kind != "reset" {
				t.Fatalf("ann, added to ops during her replay from %d, was sent %s %d (%s) first, want reset (later is %d)",
					start, ev.kind, ev.id, ev.title, later)
			}
		})
	}
}

// A change of membership that commits after a stream's replay was read,
// before the hub takes the stream over, reaches it in position order: no
// change past it goes out by the old groups (ann, out of ops, is never sent
// what ops is sent later), and `reset` comes before any change past it.
func TestMembershipChangeBeforeTheTakeOverKeepsItsOrder(t *testing.T) {
	x := newRegroupRig(t, stream.Options{Heartbeat: time.Hour})
	ctx := context.Background()
	if _, err := x.store.AddGroupMembers(ctx, "ops", []string{x.ann.Email}); err != nil {
		t.Fatal(err)
	}
	start := x.post(t, "start")
	x.settle(t)
	var forOps int64
	x.reads.afterReplay = true
	x.reads.step = func() {
		if _, err := x.store.RemoveGroupMembers(ctx, "ops", []string{x.ann.Email}); err != nil {
			t.Error(err)
		}
		forOps = x.postToOps(t, "for ops")
		x.settle(t)
	}
	s := openEvents(t, x.srv.URL, fmt.Sprint(start))
	if ev := firstChange(t, s); ev.kind != "reset" || ev.id >= forOps {
		t.Fatalf("ann, out of ops since before %d, was sent %s %d (%s) first, want reset before it", forOps, ev.kind, ev.id, ev.title)
	}
	end := x.post(t, "end")
	if got, want := s.until(t, end), []string{fmt.Sprintf("notification %d end", end)}; !equal(got, want) {
		t.Errorf("after the reset ann got %q, want %q", got, want)
	}
}

// Before any notification was stored, every change of membership stands
// at position 0 (there is nothing to tell apart): the user's topic still
// moves her open stream to her new groups. Ann, out of ops, is not sent the
// first notification ever, posted to ops.
func TestMembershipChangeBeforeAnyNotificationMovesTheStream(t *testing.T) {
	x := newRegroupRig(t, stream.Options{Heartbeat: time.Hour})
	ctx := context.Background()
	if _, err := x.store.AddGroupMembers(ctx, "ops", []string{x.ann.Email}); err != nil {
		t.Fatal(err)
	}
	s := openEvents(t, x.srv.URL, "")
	if ev := s.next(t); ev.kind != "unread" {
		t.Fatalf("ann's stream began with %s, want her unread count", ev.kind)
	}
	if _, err := x.store.RemoveGroupMembers(ctx, "ops", []string{x.ann.Email}); err != nil {
		t.Fatal(err)
	}
	if err := x.broker.Publish(ctx, broker.UserTopic(x.ann.ID)); err != nil {
		t.Fatal(err)
	}
	if ev := firstChange(t, s); ev.kind != "reset" {
		t.Fatalf("ann, out of ops, was sent %s %d (%s), want reset", ev.kind, ev.id, ev.title)
	}
	forOps := x.postToOps(t, "for ops")
	end := x.post(t, "end")
	if got, want := s.until(t, end), []string{fmt.Sprintf("notification %d end", end)}; !equal(got, want) {
		t.Errorf("ann, out of ops, got %q, want %q (not %d, for ops)", got, want, forOps)
	}
}
