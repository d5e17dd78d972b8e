package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"beacon/migrations"
)

// BenchmarkFeedPage measures the feed's pages for one user among
// 100,000 notifications (seedBench, with four levels and a sentence of
// body each), on SQLite and, where it answers, PostgreSQL; each reports
// its median as p50-ms:
//
//	go test ./app/store -run '^$' -bench FeedPage -benchtime 200x -v
func BenchmarkFeedPage(b *testing.B) {
	for name, url := range benchDatabases(b) {
		b.Run(name, func(b *testing.B) { benchFeedPage(b, open(b, url)) })
	}
}

func benchFeedPage(b *testing.B, s *Store) {
	ctx := context.Background()
	seedBench(b, s)
	err := s.db.Exec(`UPDATE notifications SET level = CASE id % 4 WHEN 0 THEN 'info' WHEN 1 THEN 'success' WHEN 2 THEN 'warning' ELSE 'error' END,
		body = 'The disk on host-' || (id % 500) || ' is ' || (id % 100) || ' percent full'`).Error
	if err != nil {
		b.Fatal(err)
	}
	if s.dialect == migrations.Postgres {
		if err := s.db.Exec("VACUUM ANALYZE users, notifications, notification_reads").Error; err != nil {
			b.Fatal(err)
		}
	}
	const user = 1 // sees the 90,000 broadcasts and ten of those addressed
	for _, c := range []struct {
		name string
		f    FeedFilter
		want int
	}{
		{"first page", FeedFilter{}, 50},
		{"deep page", FeedFilter{Before: 1000}, 50},
		{"level", FeedFilter{Level: "error"}, 50},
		{"search hit", FeedFilter{Q: "HOST-77 IS 77"}, 50},
		{"search old ones", FeedFilter{Q: "n1234"}, 10},
		{"search miss", FeedFilter{Q: "no such text"}, 0},
	} {
		b.Run(c.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				ns, err := s.FeedPage(ctx, user, c.f, 50)
				took = append(took, time.Since(start))
				if err != nil || len(ns) != c.want {
					b.Fatalf("%d notifications (%v), want %d", len(ns), err, c.want)
				}
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
		})
	}
	b.Run("unread count", func(b *testing.B) {
		var took []time.Duration
		for b.Loop() {
			start := time.Now()
			if _, err := s.UnreadCount(ctx, user, NoLimit); err != nil {
				b.Fatal(err)
			}
			took = append(took, time.Since(start))
		}
		slices.Sort(took)
		b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	})
}
