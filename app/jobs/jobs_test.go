package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"beacon/app/apptest"
	"beacon/app/jobs"
	"beacon/app/models"
	"beacon/app/pgtest"
)

const wait = 5 * time.Second

// forEachDatabase runs test on SQLite, and again on PostgreSQL where one
// answers.
func forEachDatabase(t *testing.T, test func(t *testing.T, opts apptest.Options)) {
	t.Run("sqlite", func(t *testing.T) { test(t, apptest.Options{}) })
	if url := pgtest.URL(t); url != "" {
		t.Run("postgres", func(t *testing.T) { test(t, apptest.Options{DatabaseURL: url}) })
	}
}

// schedule stores a broadcast due at due and wakes the hubs, as the API
// does for a post with deliver_at.
func schedule(t *testing.T, app *apptest.App, title string, due time.Time) models.Notification {
	t.Helper()
	n := models.Notification{Title: title, Level: "info", DeliverAt: &due}
	app.SaveNotifications(t, func(ctx context.Context) error {
		_, err := app.Store.CreateOrReplaceNotification(ctx, &n)
		return err
	})
	if !n.Scheduled {
		t.Fatalf("%s due %v is not scheduled", title, due)
	}
	return n
}

// arrival reads the stream's next event, skipping comments, and returns it
// with its data's id.
func arrival(t *testing.T, s *apptest.Stream) (apptest.Event, int64) {
	t.Helper()
	ev := s.NextEvent(t, wait)
	var d struct{ ID int64 }
	if err := json.Unmarshal([]byte(ev.Data), &d); err != nil {
		t.Fatalf("%+v: %v", ev, err)
	}
	return ev, d.ID
}

// A scheduled notification reaches an open stream within a second of its
// time, not before, as a first `notification` at a position past its id.
func TestScheduledNotificationArrivesWithinItsSecond(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app := apptest.New(t, opts)
		s := app.Client(t).OpenStream(t, "")
		s.NextEvent(t, wait) // retry
		due := time.Now().Add(1500 * time.Millisecond)
		n := schedule(t, app, "later", due)

		ev, id := arrival(t, s)
		late := time.Since(due)
		if ev.Event != "notification" || id != n.ID {
			t.Fatalf("got %+v, want notification %d", ev, n.ID)
		}
		if pos, _ := strconv.ParseInt(ev.ID, 10, 64); pos <= n.ID {
			t.Fatalf("delivered at position %d, want past its id %d", pos, n.ID)
		}
		if late < 0 || late > time.Second {
			t.Fatalf("delivered %v after its time, want within a second", late)
		}
	})
}

// One that fell due while the app was stopped is delivered when it starts:
// a client resuming from before receives it.
func TestScheduledWhileStoppedIsDeliveredOnStart(t *testing.T) {
	app := apptest.New(t, apptest.Options{})
	ctx := context.Background()
	before, err := app.Store.LastPosition(ctx)
	if err != nil {
		t.Fatal(err)
	}
	due := time.Now().Add(300 * time.Millisecond)
	n := schedule(t, app, "while stopped", due)
	app.Down(t)
	<-time.After(time.Until(due) + 50*time.Millisecond)
	if next, err := app.Store.NextDue(ctx); err != nil || next.IsZero() {
		t.Fatalf("delivered while stopped (next due %v, %v)", next, err)
	}
	app.Up(t)

	s := app.Client(t).OpenStream(t, strconv.FormatInt(before, 10))
	s.NextEvent(t, wait) // retry
	// The replay may run before the scheduler's first look; then the
	// delivery arrives live. Either way it is the next event.
	ev, id := arrival(t, s)
	if ev.Event != "notification" || id != n.ID {
		t.Fatalf("got %+v, want notification %d", ev, n.ID)
	}
}

// Under RETENTION old notifications are pruned; a client resuming from a
// position before what was pruned gets reset, one resuming from after it
// carries on.
func TestRetentionPrunesAndResumingFromBeforeIsReset(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		opts.Env = map[string]string{"RETENTION": "2s"}
		app, _, token := apptest.WithAdmin(t, opts)
		ctx := context.Background()
		a := app.Notify(t, token, map[string]string{"title": "a"})
		b := app.Notify(t, token, map[string]string{"title": "b"})
		deadline := time.Now().Add(wait)
		for {
			pruned, err := app.Store.PrunedThrough(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if pruned == b {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("pruned through %d within %v, want %d", pruned, wait, b)
			}
			<-time.After(jobs.PruneEvery(2 * time.Second))
		}
		if ns, err := app.Store.LatestNotifications(ctx, 10); err != nil || len(ns) != 0 {
			t.Fatalf("after pruning: %d notifications, %v", len(ns), err)
		}
		// An empty feed resumes from what was pruned, not from 0: the
		// stream would reset 0, and the page reload, again and again.
		if _, page := app.Client(t).Get(t, "/"); !strings.Contains(page, fmt.Sprintf(`data-position="%d"`, b)) {
			t.Fatalf("the emptied feed does not resume from the pruned position %d:\n%s", b, page)
		}
		c := app.Notify(t, token, map[string]string{"title": "c"})

		s := app.Client(t).OpenStream(t, strconv.FormatInt(a, 10))
		s.NextEvent(t, wait) // retry
		if ev := s.NextEvent(t, wait); ev.Event != "reset" || ev.ID != fmt.Sprint(c) || ev.Data != fmt.Sprintf(`{"last_id":%d}`, c) {
			t.Fatalf("resuming from pruned %d: got %+v, want reset to %d", a, ev, c)
		}
		s = app.Client(t).OpenStream(t, strconv.FormatInt(b, 10))
		s.NextEvent(t, wait) // retry
		if ev, id := arrival(t, s); ev.Event != "notification" || id != c {
			t.Fatalf("resuming from %d: got %+v, want c", b, ev)
		}
	})
}

func TestPruneEvery(t *testing.T) {
	for retention, want := range map[time.Duration]time.Duration{
		720 * time.Hour:        time.Hour,
		5 * time.Hour:          30 * time.Minute,
		10 * time.Second:       time.Second,
		100 * time.Millisecond: 100 * time.Millisecond,
	} {
		if got := jobs.PruneEvery(retention); got != want {
			t.Errorf("RETENTION %v: every %v, want %v", retention, got, want)
		}
	}
}
