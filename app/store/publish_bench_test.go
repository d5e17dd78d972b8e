package store

import (
	"context"
	"path/filepath"
	"testing"

	"beacon/app/models"
	"beacon/app/pgtest"
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

// BenchmarkFirstDeliveryCountsOnPostgres is the hub's write of a second's
// counts at 1,000 posts/s on PostgreSQL: each of 1,000 notifications just
// posted counted for the first time, as most are. WAL-B/notification is
// what PostgreSQL wrote for it, as the whole server did (other sessions'
// writes meanwhile count too).
//
//	go test -run '^$' -bench FirstDeliveryCountsOnPostgres -benchtime 20x ./app/store/
func BenchmarkFirstDeliveryCountsOnPostgres(b *testing.B) {
	url := pgtest.URL(b)
	if url == "" {
		b.Skip("no PostgreSQL to measure on")
	}
	s := open(b, url)
	ctx := context.Background()
	const perWrite = 1000
	var wal float64
	for b.Loop() {
		b.StopTimer()
		ns := make([]*models.Notification, perWrite)
		for i := range ns {
			ns[i] = &models.Notification{Title: "bench", Body: "beacon bench", Level: "info"}
		}
		if _, err := s.CreateOrReplaceNotifications(ctx, ns); err != nil {
			b.Fatal(err)
		}
		counts := make(map[int64]int64, perWrite)
		for _, n := range ns {
			counts[n.ID] = 20
		}
		var before float64
		if err := s.db.Raw("SELECT pg_current_wal_lsn() - '0/0'").Scan(&before).Error; err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := s.AddDeliveryCounts(ctx, counts); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		var after float64
		if err := s.db.Raw("SELECT pg_current_wal_lsn() - '0/0'").Scan(&after).Error; err != nil {
			b.Fatal(err)
		}
		wal += after - before
		b.StartTimer()
	}
	b.ReportMetric(wal/float64(b.N*perWrite), "WAL-B/notification")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*perWrite), "µs/notification")
}
