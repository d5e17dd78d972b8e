package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"beacon/app/models"
	"beacon/migrations"
)

// oneConnection leaves s's pool one connection until the test ends: a
// query that asks the pool for a second while a snapshot holds the first
// waits for ever.
func oneConnection(t *testing.T, s *Store) {
	s.sqlDB.SetMaxOpenConns(1)
	t.Cleanup(func() {
		if s.dialect == migrations.Postgres {
			s.sqlDB.SetMaxOpenConns(maxPostgresConns)
		} else {
			s.sqlDB.SetMaxOpenConns(maxSQLiteConns)
		}
	})
}

// A list page read in a snapshot runs every query on the snapshot's
// connection, the audiences the cache lacks too: one that asked the pool
// for another would wait while every connection is held by a snapshot
// waiting the same way (here, the pool's one).
func TestSnapshotRunsEveryQueryOnItsConnection(t *testing.T) {
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			ann := user(t, s, "ann@example.com")
			user(t, s, "bob@example.com")
			if _, err := s.CreateGroup(ctx, "ops", false); err != nil {
				t.Fatal(err)
			}
			must(s.AddGroupMembers(ctx, "ops", []string{ann.Email}))
			n := models.Notification{Title: "y", Level: "info"}
			must(s.Address(ctx, []string{"group:ops"})).Apply(&n)
			must(s.CreateOrReplaceNotification(ctx, &n))
			toBob := must(s.Address(ctx, []string{"bob@example.com"}))
			must(s.UpdateNotification(ctx, n.ID, NotificationPatch{To: &toBob})) // lost to ann
			oneConnection(t, s)
			s.audiences.mu.Lock()
			s.audiences.entries = nil // its audience (ops, in its change) must be read
			s.audiences.mu.Unlock()
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			var page models.Replay
			err := s.snapshot(ctx, func(db *gorm.DB) (err error) {
				page, _, err = s.listAfter(ctx, db, ann.ID, 0, 10, true)
				return err
			})
			if err != nil {
				t.Fatalf("a page read in a snapshot, with one connection: %v", err)
			}
			if len(page.Changes) != 0 || page.Through != 0 {
				t.Fatalf("ann's page: %+v through %d, want nothing (y was lost to her)", page.Changes, page.Through)
			}
		})
	}
}

// A snapshot whose reader panics still ends its transaction: the
// connection goes back to the pool ready for the next, a write too.
func TestSnapshotEndsItsTransactionOnAPanic(t *testing.T) {
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			oneConnection(t, s)
			func() {
				defer func() {
					if r := recover(); r == nil {
						t.Fatal("the reader's panic did not come through")
					}
				}()
				_ = s.snapshot(ctx, func(db *gorm.DB) error {
					var n int64
					if err := db.Raw("SELECT COUNT(*) FROM notifications").Scan(&n).Error; err != nil {
						return err
					}
					panic(fmt.Sprintf("a reader's bug, after %d rows", n))
				})
			}()
			if _, err := s.CreateGroup(ctx, "after-the-panic", false); err != nil {
				t.Fatalf("a write on the connection after the panic: %v", err)
			}
		})
	}
}
