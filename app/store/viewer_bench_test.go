package store

import (
	"context"
	"testing"

	"beacon/migrations"
)

// BenchmarkViewerQueries measures the queries that apply the visibility
// rule (package audience) for a visitor and a user, on the unread count's
// data set, and the admin list's read counts, which apply it per user:
//
//	go test ./app/store -run '^$' -bench ViewerQueries -benchtime 2s
func BenchmarkViewerQueries(b *testing.B) {
	for name, url := range benchDatabases(b) {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			s := open(b, url)
			seedBench(b, s)
			analyze := "ANALYZE"
			if s.dialect == migrations.Postgres {
				analyze = "VACUUM ANALYZE users, notifications, notification_reads"
			}
			if err := s.db.Exec(analyze).Error; err != nil {
				b.Fatal(err)
			}
			for _, v := range []struct {
				name string
				id   int64
			}{{"visitor", 0}, {"user", 2}} {
				b.Run("changes/"+v.name, func(b *testing.B) {
					for b.Loop() {
						if _, err := s.ChangesAfter(ctx, v.id, benchNotifications/2, fetchBatch); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.Run("recent/"+v.name, func(b *testing.B) {
					for b.Loop() {
						if _, err := s.RecentNotifications(ctx, v.id, 50); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.Run("last visible/"+v.name, func(b *testing.B) {
					for b.Loop() {
						if _, err := s.LastVisiblePosition(ctx, v.id); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
			b.Run("admin list read counts", func(b *testing.B) {
				for b.Loop() {
					if _, err := s.LatestNotifications(ctx, 50); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
