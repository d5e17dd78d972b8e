package store_test

import (
	"context"
	"testing"

	"beacon/app/models"
	"beacon/app/store"
)

// Every statement the store runs is counted once: a plain query, a raw
// one, a query with its preload, each write of a transaction.
func TestQueriesCountsEveryStatement(t *testing.T) {
	for name, s := range store.OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			delta := func(what string, want int64, f func() error) {
				t.Helper()
				before := s.Queries()
				if err := f(); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if got := s.Queries() - before; got != want {
					t.Errorf("%s: counted %d statements, want %d", what, got, want)
				}
			}
			delta("LastPosition", 1, func() error { _, err := s.LastPosition(ctx); return err })
			delta("PrunedThrough (raw)", 1, func() error { _, err := s.PrunedThrough(ctx); return err })
			delta("nothing", 0, func() error { return nil })

			var n models.Notification
			before := s.Queries()
			n = models.Notification{Title: "hello", Level: "info"}
			if _, err := s.CreateOrReplaceNotification(ctx, &n); err != nil {
				t.Fatal(err)
			}
			// A post takes its position and is inserted in one statement (on
			// PostgreSQL, with the lock).
			if got := s.Queries() - before; got != 1 {
				t.Errorf("a post counted %d statements, want one", got)
			}
			// A broadcast has no recipient to preload; one addressed to a
			// user has: that is a second query.
			delta("ChangesAfter of a broadcast", 1, func() error { _, err := s.ChangesAfter(ctx, 0, 0, 10); return err })
			u := models.User{Name: "Reader", Email: "reader@example.com", PasswordHash: "x"}
			if err := s.CreateUser(ctx, &u); err != nil {
				t.Fatal(err)
			}
			m := models.Notification{Title: "for you", Level: "info", RecipientID: &u.ID}
			if _, err := s.CreateOrReplaceNotification(ctx, &m); err != nil {
				t.Fatal(err)
			}
			delta("ChangesAfter with a recipient to preload", 2, func() error { _, err := s.ChangesAfter(ctx, u.ID, 0, 10); return err })
		})
	}
}
