package jobs_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"beacon/app/apptest"
	"beacon/app/broker"
	"beacon/app/jobs"
	"beacon/app/models"
	"beacon/app/store"
)

// wakes records when a topic of app's broker is woken, as a hub's
// SubscribeFunc would see it.
func wakes(t *testing.T, app *apptest.App, topic string) <-chan time.Time {
	t.Helper()
	c := make(chan time.Time, 64)
	sub := app.Broker().SubscribeFunc(topic, func() {
		select {
		case c <- time.Now():
		default:
		}
	})
	t.Cleanup(sub.Close)
	return c
}

// listening waits until app's PostgreSQL listener is connected (and has
// woken everyone, as it does then), so that later wake-ups are the test's.
func listening(t *testing.T, app *apptest.App) {
	t.Helper()
	pg, ok := app.Broker().(*broker.Postgres)
	if !ok {
		return
	}
	deadline := time.Now().Add(wait)
	for !pg.Health().Connected {
		if time.Now().After(deadline) {
			t.Fatalf("listener not connected within %v", wait)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wokenAfter waits for a wake-up later than since, and fails unless one
// comes within 2 s of it.
func wokenAfter(t *testing.T, c <-chan time.Time, since time.Time, what string) {
	t.Helper()
	timeout := time.After(time.Until(since.Add(2 * time.Second)))
	for {
		select {
		case at := <-c:
			if at.After(since) {
				return
			}
		case <-timeout:
			t.Fatalf("%s: not woken within 2s of the change", what)
		}
	}
}

// A membership change made through the store alone, as `beacon group`
// does from another process, wakes that user's topic on every instance
// within 2 s, and no other user's: on SQLite, where no NOTIFY could carry
// it, and on PostgreSQL, where each instance reads the log itself.
func TestGroupChangesWakeTheUserOnEveryInstance(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		if opts.DatabaseURL == "" {
			opts.DatabaseURL = filepath.Join(t.TempDir(), "beacon.db")
		}
		apps := []*apptest.App{apptest.New(t, opts)}
		if store.IsPostgres(opts.DatabaseURL) {
			apps = append(apps, apptest.New(t, opts))
		}
		bea := apps[0].CreateUser(t, "Bea", "bea@example.com", "long enough", false)
		cy := apps[0].CreateUser(t, "Cy", "cy@example.com", "long enough", false)
		var beaWakes, cyWakes []<-chan time.Time
		for _, app := range apps {
			beaWakes = append(beaWakes, wakes(t, app, broker.UserTopic(bea.ID)))
			cyWakes = append(cyWakes, wakes(t, app, broker.UserTopic(cy.ID)))
			listening(t, app)
		}

		cli, err := store.Open(opts.DatabaseURL)
		if err != nil {
			t.Fatal(err)
		}
		defer cli.Close()
		ctx := context.Background()
		if _, err := cli.CreateGroup(ctx, "ops", false); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for _, change := range []func() error{
			func() error { _, err := cli.AddGroupMembers(ctx, "ops", []string{bea.Email}); return err },
			func() error { _, err := cli.RemoveGroupMembers(ctx, "ops", []string{bea.Email}); return err },
		} {
			before := time.Now()
			if err := change(); err != nil {
				t.Fatal(err)
			}
			for i := range apps {
				wokenAfter(t, beaWakes[i], before, "instance "+string(rune('A'+i)))
			}
		}
		for i := range apps {
			for len(cyWakes[i]) > 0 {
				// (A listener wakes everyone once it connects: earlier.)
				if at := <-cyWakes[i]; at.After(start) {
					t.Fatalf("instance %c woke a user whose groups did not change", 'A'+i)
				}
			}
		}
	})
}

// A burst of changes larger than one look reads (a `beacon group add` of
// many users) wakes each of its users, once, at the next look.
func TestGroupWatchWakesEveryUserOfABurst(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := store.Open(filepath.Join(t.TempDir(), "beacon.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	const users = 1100
	var emails []string
	for i := range users {
		u := models.User{Name: "u", Email: fmt.Sprintf("u%d@example.com", i), PasswordHash: "x"}
		if err := st.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
		emails = append(emails, u.Email)
	}
	if _, err := st.CreateGroup(ctx, "all", false); err != nil {
		t.Fatal(err)
	}
	// Changes before the watch starts are not its to tell.
	if _, err := st.AddGroupMembers(ctx, "all", emails[:1]); err != nil {
		t.Fatal(err)
	}

	b := broker.NewMemory()
	var mu sync.Mutex
	woken := map[int64]int{}
	for id := range int64(users + 1) {
		sub := b.SubscribeFunc(broker.UserTopic(id), func() {
			mu.Lock()
			woken[id]++
			mu.Unlock()
		})
		defer sub.Close()
	}
	w := jobs.NewGroupWatch(ctx, st, b, slog.New(slog.DiscardHandler))
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()

	added, err := st.AddGroupMembers(ctx, "all", emails)
	if err != nil || len(added) != users-1 {
		t.Fatalf("added %d, %v", len(added), err)
	}
	deadline := time.Now().Add(wait)
	for {
		mu.Lock()
		n := len(woken)
		mu.Unlock()
		if n >= len(added) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d users woken within %v", n, len(added), wait)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, id := range added {
		if woken[id] != 1 {
			t.Fatalf("user %d woken %d times, want once", id, woken[id])
		}
	}
	if len(woken) != len(added) {
		t.Fatalf("%d users woken, want the %d added (not the one added before the watch)", len(woken), len(added))
	}
}
