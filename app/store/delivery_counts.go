package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"gorm.io/gorm"

	"beacon/migrations"
)

// AddDeliveryCounts counts more live deliveries of several notifications,
// counts[id] each, in one transaction: the hub gathers them and writes
// them together, off the path of the posts that wait for the same writer.
// A notification pruned meanwhile is skipped.
func (s *Store) AddDeliveryCounts(ctx context.Context, counts map[int64]int64) error {
	if len(counts) == 0 {
		return nil
	}
	// In id order, chunk after chunk: on PostgreSQL each chunk locks its
	// rows in id order too (see addDeliveriesSQL), so two instances adding
	// to the same rows take them in one order.
	ids := slices.Sorted(maps.Keys(counts))
	lockFirst := s.dialect != migrations.SQLite
	err := s.write(ctx, func() error {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			for chunk := range slices.Chunk(ids, deliveryChunk) {
				q, args := addDeliveriesSQL(chunk, counts, lockFirst)
				if err := tx.Exec(q, args...).Error; err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("add deliveries to %d notifications: %w", len(ids), err)
	}
	return nil
}

// deliveryChunk is how many notifications one statement of
// AddDeliveryCounts updates: three parameters each, well under
// SQLite's and PostgreSQL's limits.
const deliveryChunk = 250

// addDeliveriesSQL is one UPDATE adding counts[id] to each of ids: one
// statement, not one per row, so the writer is held for a moment. It
// leaves updated_at alone: a delivery is no change to the notification
// on the wire. (CAST: PostgreSQL would read a bare parameter in a CASE as
// text.)
//
// With lockFirst (PostgreSQL), the statement first locks the rows in id
// order. A bare UPDATE locks them in the order its plan reaches them: a
// small batch by the primary key (id order), a large one by a sequential
// scan (heap order, which updates reshuffle), so two instances' batches
// deadlocked (TestAddDeliveryCountsConcurrentOnPostgres). A locking
// SELECT with ORDER BY locks rows as they come out of the sort, and the
// UPDATE then touches only rows this transaction holds. SQLite has one
// writer, so it needs no such step.
func addDeliveriesSQL(ids []int64, counts map[int64]int64, lockFirst bool) (string, []any) {
	var q strings.Builder
	args := make([]any, 0, 3*len(ids))
	inIDs := func() {
		q.WriteString("(")
		for i, id := range ids {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("?")
			args = append(args, id)
		}
		q.WriteString(")")
	}
	if lockFirst {
		q.WriteString("WITH locked AS (SELECT id FROM notifications WHERE id IN ")
		inIDs()
		q.WriteString(" ORDER BY id FOR UPDATE) ")
	}
	q.WriteString("UPDATE notifications SET deliveries = deliveries + CASE notifications.id")
	for _, id := range ids {
		q.WriteString(" WHEN ? THEN CAST(? AS BIGINT)")
		args = append(args, id, counts[id])
	}
	if lockFirst {
		q.WriteString(" END FROM locked WHERE notifications.id = locked.id")
	} else {
		q.WriteString(" END WHERE id IN ")
		inIDs()
	}
	return q.String(), args
}
