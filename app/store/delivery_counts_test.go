package store

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"beacon/app/pgtest"
	"beacon/migrations"
)

// Counts for several notifications go in at once, add to what was there,
// leave updated_at alone, and skip one that is gone (pruned meanwhile).
func TestAddDeliveryCounts(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			a, b := post(t, s, nil), post(t, s, nil)
			before := must(s.NotificationByID(ctx, a))
			if err := s.AddDeliveryCounts(ctx, map[int64]int64{a: 5, b: 1, b + 1000: 7}); err != nil {
				t.Fatal(err)
			}
			// More than one statement's worth: a lands in a later one.
			many := map[int64]int64{a: 2}
			for id := range int64(2 * deliveryChunk) {
				many[-1-id] = 1
			}
			if err := s.AddDeliveryCounts(ctx, many); err != nil {
				t.Fatal(err)
			}
			if err := s.AddDeliveryCounts(ctx, nil); err != nil {
				t.Fatal(err)
			}
			na, nb := must(s.NotificationByID(ctx, a)), must(s.NotificationByID(ctx, b))
			if na.Deliveries != 7 || nb.Deliveries != 1 || !na.UpdatedAt.Equal(before.UpdatedAt) {
				t.Fatalf("deliveries %d and %d, updated_at %v; want 7 and 1, %v", na.Deliveries, nb.Deliveries,
					na.UpdatedAt, before.UpdatedAt)
			}
		})
	}
}

// Two instances writing counts for overlapping notifications at once, on
// PostgreSQL, neither fail nor lose any: their transactions lock the rows
// they update in one order, so neither waits for a row the other holds
// while holding one it wants.
func TestAddDeliveryCountsConcurrentOnPostgres(t *testing.T) {
	url := pgtest.URL(t)
	if url == "" {
		t.Skip("no PostgreSQL to test on")
	}
	ctx := context.Background()
	one, other := open(t, url), open(t, url)
	const rows, rounds = 400, 200
	ids := make([]int64, rows)
	for i := range ids {
		ids[i] = post(t, one, nil)
	}
	want := map[int64]int64{}
	rng := rand.New(rand.NewPCG(1, 2))
	for range rounds {
		// Overlapping batches of different sizes: the store sorts the ids
		// whatever order they come in, but a small batch and a large one
		// are planned differently, and so lock their rows in other orders.
		a, b := batch(rng, ids), batch(rng, ids)
		for id, n := range a {
			want[id] += n
		}
		for id, n := range b {
			want[id] += n
		}
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for _, w := range []struct {
			s *Store
			m map[int64]int64
		}{{one, a}, {other, b}} {
			wg.Go(func() { errs <- w.s.AddDeliveryCounts(ctx, w.m) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, id := range ids {
		if n := must(one.NotificationByID(ctx, id)); n.Deliveries != want[id] {
			t.Fatalf("notification %d: %d deliveries, want %d", id, n.Deliveries, want[id])
		}
	}
}

// batch is counts for a random share of ids.
func batch(rng *rand.Rand, ids []int64) map[int64]int64 {
	share := []float64{0.01, 0.05, 0.3, 1}[rng.IntN(4)]
	m := map[int64]int64{}
	for _, id := range ids {
		if rng.Float64() < share {
			m[id] = 1 + rng.Int64N(5)
		}
	}
	return m
}

// The counts move to a table of their own and back: migrating up copies
// those in the notifications' rows over, down copies them back, and a
// pruned notification's count goes with it.
func TestMigrationMovesDeliveryCounts(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			a, b := post(t, s, nil), post(t, s, nil)
			p, err := migrations.NewProvider(s.SQL(), s.Dialect(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.DownTo(ctx, 13); err != nil {
				t.Fatal(err)
			}
			if err := s.db.Exec("UPDATE notifications SET deliveries = 4 WHERE id = ?", a).Error; err != nil {
				t.Fatal(err)
			}
			if _, err := p.Up(ctx); err != nil {
				t.Fatal(err)
			}
			if err := s.AddDeliveryCounts(ctx, map[int64]int64{a: 1, b: 2}); err != nil {
				t.Fatal(err)
			}
			if na, nb := must(s.NotificationByID(ctx, a)), must(s.NotificationByID(ctx, b)); na.Deliveries != 5 || nb.Deliveries != 2 {
				t.Fatalf("after up: %d and %d deliveries, want 5 and 2", na.Deliveries, nb.Deliveries)
			}
			if _, err := p.DownTo(ctx, 13); err != nil {
				t.Fatal(err)
			}
			var back []int64
			if err := s.db.Raw("SELECT deliveries FROM notifications WHERE id IN ? ORDER BY id", []int64{a, b}).Scan(&back).Error; err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(back, []int64{5, 2}) {
				t.Fatalf("after down: deliveries %v, want [5 2]", back)
			}
			if _, err := p.Up(ctx); err != nil {
				t.Fatal(err)
			}
			if n, err := s.PruneNotificationsBefore(ctx, time.Now().Add(time.Minute)); err != nil || n != 2 {
				t.Fatalf("pruned %d, %v; want 2", n, err)
			}
			var left int64
			if err := s.db.Raw("SELECT count(*) FROM delivery_counts").Scan(&left).Error; err != nil {
				t.Fatal(err)
			}
			if left != 0 {
				t.Fatalf("%d delivery counts outlived their notifications", left)
			}
		})
	}
}
