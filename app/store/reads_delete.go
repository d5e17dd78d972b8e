package store

import (
	"gorm.io/gorm"

	"beacon/app/models"
	"beacon/migrations"
)

// deleteReads deletes the reads that match where, inside a transaction.
//
// On PostgreSQL it first locks them in key order, (user_id,
// notification_id). A prune batch deletes many users' reads of its
// notifications and "mark all" one user's reads of many; each bare DELETE
// took them in the order of its plan (heap order by a sequential or bitmap
// scan, key order by an index scan), so the two deadlocked over one user's
// reads (TestPruneAndMarkAllReadConcurrentOnPostgres). Locked in one order
// by a SELECT with ORDER BY, as the rows come out of the sort, neither
// waits for a read while holding one past it. SQLite has one writer.
func (s *Store) deleteReads(tx *gorm.DB, where string, args ...any) error {
	if s.dialect != migrations.Postgres {
		return tx.Where(where, args...).Delete(&models.NotificationRead{}).Error
	}
	// The delete finds the locked rows by ctid, which a row lock keeps
	// fixed until commit. Joined back by key instead, a prune's batch (its
	// reads estimated high) was planned as a hash join over a sequential
	// scan of the whole table (README, Performance).
	return tx.Exec(`WITH locked AS (SELECT ctid FROM notification_reads
			WHERE `+where+` ORDER BY user_id, notification_id FOR UPDATE)
		DELETE FROM notification_reads WHERE ctid = ANY(ARRAY(SELECT ctid FROM locked))`, args...).Error
}
