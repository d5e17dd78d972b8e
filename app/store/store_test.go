package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"beacon/app/models"
	"beacon/app/store"
	"beacon/migrations"
)

// databases opens a fresh, migrated store on SQLite, and on PostgreSQL when
// one is reachable.
func databases(t *testing.T) map[string]*store.Store { return store.OpenTestDatabases(t) }

func TestVisibilityAndOrder(t *testing.T) {
	for name, st := range databases(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			bob := models.User{Name: "Bob", Email: "Bob@Example.com", PasswordHash: "x"}
			if err := st.CreateUser(ctx, &bob); err != nil {
				t.Fatal(err)
			}
			dup := models.User{Name: "Bob2", Email: "bob@example.COM", PasswordHash: "x"}
			if err := st.CreateUser(ctx, &dup); err != store.ErrEmailTaken {
				t.Fatalf("duplicate email in other case: %v", err)
			}
			if u, err := st.UserByEmail(ctx, "BOB@example.com"); err != nil || u.ID != bob.ID {
				t.Fatalf("lookup in other case: %+v %v", u, err)
			}

			all := &models.Notification{Title: "all", Level: "info"}
			mine := &models.Notification{Title: "bob's", Level: "info", RecipientID: &bob.ID}
			for _, n := range []*models.Notification{all, mine} {
				if _, err := st.CreateOrReplaceNotification(ctx, n); err != nil {
					t.Fatal(err)
				}
			}
			visitor, _ := st.ChangesAfter(ctx, 0, 0, 10)
			forBob, _ := st.ChangesAfter(ctx, bob.ID, 0, 10)
			recent, _ := st.RecentNotifications(ctx, bob.ID, 10)
			if len(visitor) != 1 || visitor[0].ID != all.ID {
				t.Fatalf("visitor sees %v", visitor)
			}
			if len(forBob) != 2 || forBob[1].RecipientEmail() != "bob@example.com" {
				t.Fatalf("bob sees %v", forBob)
			}
			if len(recent) != 2 || recent[0].ID != mine.ID {
				t.Fatalf("recent, newest first: %v", recent)
			}
			if last, err := st.LastPosition(ctx); err != nil || last != mine.ID {
				t.Fatalf("last id %d %v", last, err)
			}
		})
	}
}

// When a CreateOrReplaceNotification returns, every smaller id is committed too, so
// a reader that follows ids never skips one, even with concurrent posters.
func TestConcurrentInsertsBecomeVisibleInIDOrder(t *testing.T) {
	for name, st := range databases(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			const writers, each = 8, 25
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				skipped []string
			)
			for w := range writers {
				wg.Go(func() {
					for i := range each {
						n := &models.Notification{Title: fmt.Sprint(w, "-", i), Level: "info"}
						if _, err := st.CreateOrReplaceNotification(ctx, n); err != nil {
							t.Error(err)
							return
						}
						// Everything up to our id must already be readable
						// (broadcasts: a visitor's feed lists them all).
						ns, err := st.ChangesAfter(ctx, 0, 0, 10000)
						if err != nil {
							t.Error(err)
							return
						}
						var got []int64
						for _, m := range ns {
							got = append(got, m.ID)
						}
						if i := slices.Index(got, n.ID); i < 0 || int64(i+1) != n.ID-got[0]+1 {
							mu.Lock()
							skipped = append(skipped, fmt.Sprintf("id %d saw %d rows", n.ID, len(got)))
							mu.Unlock()
						}
					}
				})
			}
			wg.Wait()
			if len(skipped) > 0 {
				t.Fatalf("ids visible out of order: %v", skipped)
			}
		})
	}
}

func TestMigrationsRollBackCleanly(t *testing.T) {
	for name, st := range databases(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			p, err := migrations.NewProvider(st.SQL(), st.Dialect(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.DownTo(ctx, 0); err != nil {
				t.Fatalf("down to 0: %v", err)
			}
			if _, err := p.Up(ctx); err != nil {
				t.Fatalf("up again: %v", err)
			}
		})
	}
}

func TestSQLiteRunsInWALWithBusyTimeout(t *testing.T) {
	st := databases(t)["sqlite"]
	var mode string
	var timeout int
	if err := st.SQL().QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode %q %v", mode, err)
	}
	if err := st.SQL().QueryRow("PRAGMA busy_timeout").Scan(&timeout); err != nil || timeout < 5000 {
		t.Fatalf("busy_timeout %d %v", timeout, err)
	}
}
