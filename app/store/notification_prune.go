package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"beacon/app/models"
	"beacon/migrations"
)

// pruneBatch bounds how many notifications one transaction deletes, so
// that posts never wait long behind the lock.
const pruneBatch = 1000

// PruneNotificationsBefore deletes the notifications delivered before t
// (posted before t, or for a scheduled one due before t), with their
// reads, and returns how many. It records the greatest position it
// deleted, for PrunedThrough. Several instances may run it at once: each
// batch runs under the notifications lock, so they take turns and a row
// is deleted once. One still waiting for delivery is kept until then.
//
// On PostgreSQL, each batch locks its notifications in id order (the
// select's FOR UPDATE, as rows come out of the sort) before deleting
// anything; their delivery counts go with them (the foreign key's
// cascade). Delivery counts, which do not take the notifications lock,
// lock theirs in id order too (see addPostgresDeliveriesSQL): holding rows below
// the one it waits for, neither can wait for the other in a cycle. The
// DELETEs alone took rows in the order of their plan, heap order for a
// large batch, and deadlocked with them
// (TestPruneAndDeliveryCountsConcurrentOnPostgres). A count waiting for a
// row the batch deletes finds it gone, and skips it. The batch's reads
// are locked in their own order (see deleteReads). SQLite has one writer
// and needs no lock.
func (s *Store) PruneNotificationsBefore(ctx context.Context, t time.Time) (int64, error) {
	t = t.UTC()
	var pruned int64
	for {
		var n int
		err := s.lockedTx(ctx, notificationsLock, func(tx *gorm.DB) error {
			q := tx.Model(&models.Notification{}).Select("id, position").
				Where("COALESCE(deliver_at, created_at) < ? AND (NOT scheduled OR withdrawn_at IS NOT NULL)", t).
				Order("id").Limit(pruneBatch)
			if s.dialect == migrations.Postgres {
				q = q.Clauses(clause.Locking{Strength: "UPDATE"})
			}
			var rows []struct{ ID, Position int64 }
			err := q.Find(&rows).Error
			if err != nil || len(rows) == 0 {
				return err
			}
			ids := make([]int64, len(rows))
			var through int64
			for i, r := range rows {
				ids[i] = r.ID
				through = max(through, r.Position)
			}
			if err := s.deleteReads(tx, "notification_id IN ?", ids); err != nil {
				return err
			}
			if err := tx.Where("id IN ?", ids).Delete(&models.Notification{}).Error; err != nil {
				return err
			}
			err = tx.Exec("UPDATE stream_state SET pruned_through = ? WHERE id = 1 AND pruned_through < ?", through, through).Error
			if err != nil {
				return err
			}
			n = len(rows)
			return nil
		})
		if err != nil {
			return pruned, fmt.Errorf("prune notifications before %s: %w", t.Format(time.RFC3339), err)
		}
		pruned += int64(n)
		if n < pruneBatch {
			return pruned, nil
		}
	}
}
