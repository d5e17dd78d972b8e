package jobs_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"beacon/app/apptest"
	"beacon/app/jobs"
)

// The pruner deletes read and archive changes older than a day and keeps
// the newer ones.
func TestPruneStateChangesKeepsADay(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app, _, token := apptest.WithAdmin(t, opts)
		ann := app.CreateUser(t, "Ann", "ann@example.com", "password ann", false)
		old := app.Notify(t, token, map[string]string{"title": "old"})
		recent := app.Notify(t, token, map[string]string{"title": "recent"})
		ctx := context.Background()
		for _, id := range []int64{old, recent} {
			if err := app.Store.MarkRead(ctx, ann.ID, id); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := app.Store.SQL().ExecContext(ctx, "UPDATE user_state_changes SET created_at = $1 WHERE seq = 1",
			time.Now().UTC().Add(-jobs.StateChangesKept-time.Minute)); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan error)
		go func() { done <- jobs.PruneStateChanges(ctx, app.Store, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
		deadline := time.Now().Add(wait)
		for {
			cs, newest, err := app.Store.StateChangesAfter(ctx, ann.ID, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) == 1 {
				if cs[0].Seq != 2 || newest != 2 {
					t.Errorf("kept %+v (newest %d), want the second", cs[0], newest)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("still %d changes after %v", len(cs), wait)
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
