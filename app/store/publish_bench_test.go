package store

import (
	"context"
	"path/filepath"
	"testing"

	"beacon/app/models"
)

// The writes on the publish path, on SQLite:
//
//	go test -run '^$' -bench 'CreateNotificationConcurrent|UserByTokenHash|AddDeliveryCounts' -benchmem ./app/store/

// BenchmarkCreateNotificationConcurrent is 8 writers posting at once (4 per
// GOMAXPROCS on 2 cores), as 8 API clients do: each waits for SQLite's
// one writer.
func BenchmarkCreateNotificationConcurrent(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "beacon.db"))
	ctx := context.Background()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := models.Notification{Title: "bench", Body: "beacon bench", Level: "info"}
			if _, err := s.CreateOrReplaceNotification(ctx, &n); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkUserByTokenHash is the bearer check of every API call.
func BenchmarkUserByTokenHash(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "beacon.db"))
	ctx := context.Background()
	u := user(b, s, "ops@example.com")
	if _, err := s.CreateNamedAPIToken(ctx, u.ID, "", "hash"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.UserByTokenHash(ctx, "hash"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAddDeliveryCounts is one of the hub's writes of its counts: 100
// notifications' (a second of scenario B's posts).
func BenchmarkAddDeliveryCounts(b *testing.B) {
	s := open(b, filepath.Join(b.TempDir(), "beacon.db"))
	ctx := context.Background()
	counts := make(map[int64]int64)
	for range 100 {
		counts[post(b, s, nil)] = 10000
	}
	b.ResetTimer()
	for b.Loop() {
		if err := s.AddDeliveryCounts(ctx, counts); err != nil {
			b.Fatal(err)
		}
	}
}
