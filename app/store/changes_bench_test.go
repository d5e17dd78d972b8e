package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"beacon/app/models"
	"beacon/app/pgtest"
)

// BenchmarkReplayChanges measures a stream's replay of 1,000 positions of
// mixed changes (posts, edits, replacements by key, withdrawals) through
// ChangesAfter, on SQLite and, where it answers, PostgreSQL:
//
//	go test ./app/store -run '^$' -bench ReplayChanges -benchtime 3s
func BenchmarkReplayChanges(b *testing.B) {
	for name, url := range benchDatabases(b) {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			s := open(b, url)
			u := user(b, s, "reader@example.com")
			other := user(b, s, "other@example.com")
			var ids []int64
			postOne := func(i int) {
				n := models.Notification{Title: fmt.Sprint("n", i), Level: "info"}
				switch i % 10 {
				case 0:
					n.RecipientID = &u.ID
				case 5:
					n.RecipientID = &other.ID
				}
				if _, err := s.CreateOrReplaceNotification(ctx, &n); err != nil {
					b.Fatal(err)
				}
				ids = append(ids, n.ID)
			}
			for i := range 2000 {
				postOne(i)
			}
			after, err := s.LastPosition(ctx)
			if err != nil {
				b.Fatal(err)
			}
			// 1,000 positions: 450 posts, 350 edits, 100 replacements, 100 withdrawals.
			for i := range 1000 {
				var err error
				switch i % 20 {
				case 0, 1, 2, 3, 4, 5, 6, 7, 8:
					postOne(2000 + i)
				case 9, 10, 11, 12, 13, 14, 15:
					_, err = s.UpdateNotification(ctx, ids[(i*7919)%len(ids)], NotificationPatch{Title: ptr(fmt.Sprint("edit ", i))})
				case 16, 17:
					n := models.Notification{Title: fmt.Sprint("progress ", i), Level: "info", Key: ptr(fmt.Sprint("job", i%7))}
					_, err = s.CreateOrReplaceNotification(ctx, &n)
				default:
					_, err = s.WithdrawNotification(ctx, ids[(i*104729)%len(ids)])
				}
				if errors.Is(err, ErrNotFound) {
					postOne(2000 + i) // it was withdrawn: still 1,000 positions
					err = nil
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			if last, _ := s.LastPosition(ctx); last != after+1000 {
				b.Fatalf("positions %d..%d, want 1,000", after+1, last)
			}

			var queries atomic.Int64
			count := func(*gorm.DB) { queries.Add(1) }
			if err := s.db.Callback().Query().After("gorm:query").Register("bench:count", count); err != nil {
				b.Fatal(err)
			}
			if err := s.db.Callback().Raw().After("gorm:raw").Register("bench:count", count); err != nil {
				b.Fatal(err)
			}
			queries.Store(0)
			var events int
			for b.Loop() {
				events = 0
				cursor := after
				for {
					ns, err := s.ChangesAfter(ctx, u.ID, cursor, fetchBatch)
					if err != nil {
						b.Fatal(err)
					}
					for _, n := range ns {
						cursor = n.Position
						if !(n.Withdrawn() && n.NewAfter(after)) {
							events++
						}
					}
					if len(ns) < fetchBatch {
						break
					}
				}
			}
			b.ReportMetric(float64(events), "events")
			b.ReportMetric(float64(queries.Load())/float64(b.N), "queries/op")
		})
	}
}

// fetchBatch is the page size the stream's replay uses (stream.fetchBatch).
const fetchBatch = 500

// BenchmarkHubLook measures one hub's look at a group of 20 posts, what
// every instance's hub does for every group committed on any instance:
// AllChangesAndWithdrawalsAfter from the position before them. It
// reports µs a post, the cost each instance pays once per post:
//
//	go test ./app/store -run '^$' -bench HubLook -benchtime 2000x
func BenchmarkHubLook(b *testing.B) {
	for name, url := range benchDatabases(b) {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			s := open(b, url)
			before, err := s.LastPosition(ctx)
			if err != nil {
				b.Fatal(err)
			}
			const group = 20
			for i := range group {
				u := "https://example.com/runs/" + fmt.Sprint(i)
				n := models.Notification{Title: fmt.Sprint("Build ", i, " finished"), Body: "All 412 tests passed on main", Level: "success", URL: &u}
				if _, err := s.CreateOrReplaceNotification(ctx, &n); err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				ns, err := s.AllChangesAndWithdrawalsAfter(ctx, before, fetchBatch)
				if err != nil {
					b.Fatal(err)
				}
				if len(ns) != group {
					b.Fatalf("%d rows, want %d", len(ns), group)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*group), "µs/post")
		})
	}
}

// benchDatabases names the databases a benchmark runs on: a SQLite file,
// and PostgreSQL where it answers.
func benchDatabases(b *testing.B) map[string]string {
	dbs := map[string]string{"sqlite": filepath.Join(b.TempDir(), "beacon.db")}
	if url := pgtest.URL(b); url != "" {
		dbs["postgres"] = url
	}
	return dbs
}
