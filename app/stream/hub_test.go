package stream_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"beacon/app/broker"
	"beacon/app/models"
	"beacon/app/store"
	"beacon/app/stream"
	"beacon/views/components"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"))
}

// rig is a hub over a real SQLite store and the in-process broker.
type rig struct {
	store  *store.Store
	broker *broker.Memory
	hub    *stream.Hub
	done   chan error
	cancel context.CancelFunc
}

func newRig(t testing.TB, opts stream.Options) *rig {
	t.Helper()
	return newRigLogging(t, opts, io.Discard)
}

// newRigLogging is newRig with the hub's log written to logs.
func newRigLogging(t testing.TB, opts stream.Options, logs io.Writer) *rig {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "beacon.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	b := broker.NewMemory()
	log := slog.New(slog.NewTextHandler(logs, nil))
	hub, err := stream.NewHub(context.Background(), st, components.NotificationJSON, b, log, opts)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{store: st, broker: b, hub: hub, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.hub.Run(ctx) }()
	t.Cleanup(func() {
		r.stop(t)
		st.Close()
	})
	return r
}

func (r *rig) stop(t testing.TB) {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	if err := <-r.done; err != nil {
		t.Errorf("hub: %v", err)
	}
}

// post stores a broadcast and publishes its id, as the controllers do.
func (r *rig) post(t testing.TB, title string) int64 {
	t.Helper()
	n := &models.Notification{Title: title, Level: "info"}
	if _, err := r.store.CreateOrReplaceNotification(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if err := r.broker.Publish(context.Background(), broker.NotificationsTopic); err != nil {
		t.Fatal(err)
	}
	return n.ID
}

func next(t *testing.T, s *stream.Subscription) *stream.Event {
	t.Helper()
	for {
		select {
		case ev := <-s.Events():
			if ev.ID != 0 {
				return ev
			}
		case <-s.Done():
			t.Fatal("subscription dropped")
		case <-time.After(5 * time.Second):
			t.Fatal("no event within 5s")
		}
	}
}

// A subscriber that stops reading is dropped when its queue fills, and
// the others get every notification regardless.
func TestStalledSubscriberIsDroppedOthersUnaffected(t *testing.T) {
	r := newRig(t, stream.Options{QueueSize: 4, Heartbeat: time.Hour})
	stalled := r.hub.Subscribe(0, nil)
	reader := r.hub.Subscribe(0, nil)
	defer r.hub.Unsubscribe(stalled)
	defer r.hub.Unsubscribe(reader)

	// Wait until the hub runs, so that every post below is fanned out live.
	first := r.post(t, "warm-up")
	if got := next(t, reader); got.ID != first {
		t.Fatalf("got %d want %d", got.ID, first)
	}
	for i := range 20 {
		id := r.post(t, fmt.Sprint("n", i))
		if got := next(t, reader); got.ID != id {
			t.Fatalf("reader got %d want %d", got.ID, id)
		}
	}
	select {
	case <-stalled.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("stalled subscriber was not dropped")
	}
	if n := r.hub.Subscribers(); n != 1 {
		t.Fatalf("hub holds %d subscribers, want 1", n)
	}
}

// The hub renders a frame once and hands the same bytes to everyone.
func TestFrameIsSharedNotCopied(t *testing.T) {
	r := newRig(t, stream.Options{Heartbeat: time.Hour})
	a, b := r.hub.Subscribe(0, nil), r.hub.Subscribe(0, nil)
	defer r.hub.Unsubscribe(a)
	defer r.hub.Unsubscribe(b)
	r.post(t, "shared")
	if ea, eb := next(t, a), next(t, b); ea != eb {
		t.Fatal("each subscriber got its own frame")
	}
}

func TestShutdownDropsEverySubscription(t *testing.T) {
	r := newRig(t, stream.Options{Heartbeat: time.Hour})
	subs := []*stream.Subscription{r.hub.Subscribe(0, nil), r.hub.Subscribe(7, nil)}
	r.stop(t)
	for _, s := range subs {
		select {
		case <-s.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("subscription outlived the hub")
		}
	}
	late := r.hub.Subscribe(0, nil)
	select {
	case <-late.Done():
	default:
		t.Fatal("a subscription taken after shutdown is open")
	}
}

// A shutdown that comes as soon as the hub starts is a shutdown, not a
// failure: `beacon serve` must exit 0 on an early SIGTERM.
func TestHubStoppedAtOnceReturnsNil(t *testing.T) {
	r := newRig(t, stream.Options{Heartbeat: time.Hour})
	r.stop(t) // fails the test if Run returned an error
}

// A load that fails is retried on a timer: the notification arrives even
// though nothing else is posted to wake the hub again.
func TestFailedLoadIsRetried(t *testing.T) {
	failed := make(chan struct{}, 1)
	r := newRigLogging(t, stream.Options{Heartbeat: time.Hour}, logWatch{"notification hub: load", failed})
	s := r.hub.Subscribe(0, nil)
	defer r.hub.Unsubscribe(s)
	n := &models.Notification{Title: "delayed", Level: "info"}
	if _, err := r.store.CreateOrReplaceNotification(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	// Hide the table, so the hub's load fails, then wake it.
	if _, err := r.store.SQL().Exec("ALTER TABLE notifications RENAME TO notifications_hidden"); err != nil {
		t.Fatal(err)
	}
	if err := r.broker.Publish(context.Background(), broker.NotificationsTopic); err != nil {
		t.Fatal(err)
	}
	// Once the hub has failed, bring the table back, without a wake-up.
	select {
	case <-failed:
	case <-time.After(5 * time.Second):
		t.Fatal("the hub's load did not fail")
	}
	if _, err := r.store.SQL().Exec("ALTER TABLE notifications_hidden RENAME TO notifications"); err != nil {
		t.Fatal(err)
	}
	if got := next(t, s); got.ID != n.ID {
		t.Fatalf("got %d want %d", got.ID, n.ID)
	}
}

// logWatch signals when a log line contains what it watches for.
type logWatch struct {
	what string
	seen chan struct{}
}

func (w logWatch) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.what) {
		select {
		case w.seen <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

// A look whose rows took every position after its cursor asks nothing but
// its load: no position is left there for a change of membership. A gap
// (here a scheduled notification's) might be one, and is asked about.
func TestALookAtPostsAloneIsOneStatement(t *testing.T) {
	r := newRig(t, stream.Options{Heartbeat: time.Hour})
	s := r.hub.Subscribe(0, nil)
	defer r.hub.Unsubscribe(s)
	look := func(ns ...*models.Notification) int64 {
		t.Helper()
		var ids []int64
		for _, n := range ns {
			if id := r.create(t, n); !n.Scheduled {
				ids = append(ids, id)
			}
		}
		before := r.store.Queries()
		r.publish(t)
		for _, id := range ids {
			if got := next(t, s); got.ID != id {
				t.Fatalf("got %d, want %d", got.ID, id)
			}
		}
		return r.store.Queries() - before
	}
	var posts []*models.Notification
	for i := range 5 {
		posts = append(posts, &models.Notification{Title: fmt.Sprint("post ", i), Level: "info"})
	}
	if q := look(posts...); q != 1 {
		t.Fatalf("a look at five posts took %d statements, want 1", q)
	}
	later := time.Now().Add(time.Hour)
	if q := look(&models.Notification{Title: "later", Level: "info", DeliverAt: &later},
		&models.Notification{Title: "now", Level: "info"}); q != 2 {
		t.Fatalf("a look past a gap took %d statements, want 2 (the load and the changes of membership)", q)
	}
}
