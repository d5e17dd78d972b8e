package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"beacon/app/models"
	"beacon/app/pgtest"
)

// A prune and another instance's delivery counts over the same
// notifications at once, on PostgreSQL, neither fail nor lose a count:
// both lock the rows in id order, whatever order they lie in on disk.
// Counts for the rows pruned meanwhile are skipped; those for the rows
// kept (scheduled ones, interleaved) all land.
func TestPruneAndDeliveryCountsConcurrentOnPostgres(t *testing.T) {
	url := pgtest.URL(t)
	if url == "" {
		t.Skip("no PostgreSQL to test on")
	}
	ctx := context.Background()
	pruner, counter := open(t, url), open(t, url)
	const rows, rounds = 600, 20
	rng := rand.New(rand.NewPCG(5, 6))
	var kept []int64
	want := map[int64]int64{}
	for round := range rounds {
		ids, keep := postShuffled(t, pruner, rows, rng)
		counts := map[int64]int64{}
		for _, id := range ids {
			if rng.IntN(4) > 0 {
				counts[id] = 1 + rng.Int64N(5)
			}
		}
		for _, id := range keep {
			kept = append(kept, id)
			want[id] = 1 + counts[id] // 1: postShuffled's own update
		}
		var (
			wg                 sync.WaitGroup
			pruned             int64
			pruneErr, countErr error
		)
		start := make(chan struct{})
		wg.Go(func() {
			<-start
			pruned, pruneErr = pruner.PruneNotificationsBefore(ctx, time.Now().Add(time.Minute))
		})
		wg.Go(func() {
			<-start
			countErr = counter.AddDeliveryCounts(ctx, counts)
		})
		close(start)
		wg.Wait()
		if pruneErr != nil || countErr != nil {
			t.Fatalf("round %d: prune: %v; counts: %v", round, pruneErr, countErr)
		}
		if want := int64(len(ids) - len(keep)); pruned != want {
			t.Fatalf("round %d: pruned %d, want %d", round, pruned, want)
		}
	}
	var left []struct{ ID, Deliveries int64 }
	err := pruner.db.Raw(`SELECT n.id, COALESCE(d.deliveries, 0) AS deliveries
		FROM notifications n LEFT JOIN delivery_counts d ON d.notification_id = n.id ORDER BY n.id`).Scan(&left).Error
	if err != nil {
		t.Fatal(err)
	}
	var orphans int64
	if err := pruner.db.Raw("SELECT count(*) FROM delivery_counts WHERE notification_id NOT IN (SELECT id FROM notifications)").
		Scan(&orphans).Error; err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Fatalf("%d delivery counts outlived their notifications", orphans)
	}
	if len(left) != len(kept) {
		t.Fatalf("%d notifications left, want the %d kept", len(left), len(kept))
	}
	for _, n := range left {
		if n.Deliveries != want[n.ID] {
			t.Fatalf("notification %d: %d deliveries, want %d", n.ID, n.Deliveries, want[n.ID])
		}
	}
}

// A prune and users' "mark all read" at once, on PostgreSQL, neither fail:
// the prune deletes many users' reads of its notifications, each "mark
// all" one user's reads of many, and both lock them in key order, whatever
// order they lie in on disk and whatever plan reaches them. The store
// marking read is told to use indexes, as the planner does for a user
// whose reads are a small share of a large table (key order); the prune's
// plan reads this small table in heap order.
func TestPruneAndMarkAllReadConcurrentOnPostgres(t *testing.T) {
	url := pgtest.URL(t)
	if url == "" {
		t.Skip("no PostgreSQL to test on")
	}
	ctx := context.Background()
	pruner, marker := open(t, url), open(t, url+"&enable_seqscan=off&enable_bitmapscan=off")
	const rows, readers, rounds = 300, 6, 10
	rng := rand.New(rand.NewPCG(7, 8))
	for round := range rounds {
		var us []models.User
		for i := range readers {
			us = append(us, user(t, pruner, fmt.Sprintf("r%d-%d@example.com", round, i)))
		}
		ids, keep := postShuffled(t, pruner, rows, rng)
		readShuffled(t, pruner, us, slices.DeleteFunc(ids, func(id int64) bool { return slices.Contains(keep, id) }), rng)
		var wg sync.WaitGroup
		errs := make(chan error, 1+readers)
		start := make(chan struct{})
		wg.Go(func() {
			<-start
			_, err := pruner.PruneNotificationsBefore(ctx, time.Now().Add(time.Minute))
			errs <- err
		})
		for _, u := range us {
			wg.Go(func() {
				<-start
				errs <- marker.MarkAllRead(ctx, u.ID, NoLimit)
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		var reads int64
		if err := pruner.db.Model(&models.NotificationRead{}).Count(&reads).Error; err != nil {
			t.Fatal(err)
		}
		if reads != 0 {
			t.Fatalf("round %d: %d reads left", round, reads)
		}
	}
}

// readShuffled marks each of ids read by each of us, in a random order as
// users read over time: the reads lie on disk in neither key's order.
func readShuffled(t *testing.T, s *Store, us []models.User, ids []int64, rng *rand.Rand) {
	t.Helper()
	var userIDs, noteIDs []int64
	for _, u := range us {
		for _, id := range ids {
			userIDs, noteIDs = append(userIDs, u.ID), append(noteIDs, id)
		}
	}
	rng.Shuffle(len(userIDs), func(i, j int) {
		userIDs[i], userIDs[j] = userIDs[j], userIDs[i]
		noteIDs[i], noteIDs[j] = noteIDs[j], noteIDs[i]
	})
	err := s.db.Exec(`INSERT INTO notification_reads (user_id, notification_id, first_position, read_at)
		SELECT r.user_id, r.notification_id, n.first_position, now()
		FROM unnest(?::bigint[], ?::bigint[]) WITH ORDINALITY AS r (user_id, notification_id, i)
		JOIN notifications n ON n.id = r.notification_id
		ORDER BY r.i`, pgArray(userIDs), pgArray(noteIDs)).Error
	if err != nil {
		t.Fatal(err)
	}
}

// postShuffled posts n notifications, each delivered once, and returns
// their ids, and those of the third of them that a prune keeps (scheduled
// a year ahead). The rows of both tables lie on disk in an order other
// than their ids', as edits and counting deliveries leave them in time:
// an update writes a row's new version wherever there is room.
func postShuffled(t *testing.T, s *Store, n int, rng *rand.Rand) (ids, keep []int64) {
	t.Helper()
	var posted []struct {
		ID        int64
		Scheduled bool
	}
	err := s.db.Raw(`INSERT INTO notifications
			(id, position, first_position, title, level, created_at, updated_at, scheduled, deliver_at)
		SELECT id, id, CASE WHEN i % 3 = 0 THEN 0 ELSE id END, 't', 'info', now(), now(),
			i % 3 = 0, CASE WHEN i % 3 = 0 THEN now() + interval '1 year' END
		FROM (SELECT i, nextval(pg_get_serial_sequence('notifications', 'id')) AS id
			FROM generate_series(1, ?) AS i) AS s
		RETURNING id, scheduled`, n).Scan(&posted).Error
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range posted {
		ids = append(ids, p.ID)
		if p.Scheduled {
			keep = append(keep, p.ID)
		}
	}
	shuffled := slices.Clone(ids)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	err = s.db.Transaction(func(tx *gorm.DB) error {
		for _, id := range shuffled {
			if err := tx.Exec("UPDATE notifications SET updated_at = now() WHERE id = ?", id).Error; err != nil {
				return err
			}
		}
		for _, id := range shuffled {
			if err := tx.Exec("INSERT INTO delivery_counts (notification_id, deliveries) VALUES (?, 0)", id).Error; err != nil {
				return err
			}
		}
		for _, id := range slices.Backward(shuffled) {
			if err := tx.Exec("UPDATE delivery_counts SET deliveries = deliveries + 1 WHERE notification_id = ?", id).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"SELECT id FROM notifications WHERE id >= ? ORDER BY ctid",
		"SELECT notification_id FROM delivery_counts WHERE notification_id >= ? ORDER BY ctid",
	} {
		var onDisk []int64
		if err := s.db.Raw(q, ids[0]).Scan(&onDisk).Error; err != nil {
			t.Fatal(err)
		}
		if slices.IsSorted(onDisk) {
			t.Fatalf("%s: the rows lie in id order on disk: the test would prove nothing", q)
		}
	}
	return ids, keep
}

// pgArray is ids as a PostgreSQL array literal: GORM would spread a slice
// into a list of parameters.
func pgArray(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return "{" + strings.Join(s, ",") + "}"
}
