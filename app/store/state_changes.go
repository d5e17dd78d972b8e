package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"beacon/app/models"
	"beacon/migrations"
)

// A user's read and archive state changes are numbered per user
// (users.state_seq) and kept for a while in user_state_changes: every
// stream of theirs, on every instance, reads them after the number it
// holds when the user's topic wakes, and a feed page that reconnects asks
// for those after the number it was rendered at.

// lockUser takes the user's row for the rest of tx and returns their
// watermark: a user's state changes commit one at a time, in the order of
// their numbers, so that a stream reading past its number never skips one
// that commits later with a smaller number.
func (s *Store) lockUser(tx *gorm.DB, userID int64) (readThrough int64, err error) {
	q := "SELECT read_through_id FROM users WHERE id = ?"
	if s.dialect == migrations.Postgres {
		q += " FOR UPDATE"
	} // SQLite: the transaction holds the file's one write lock
	res := tx.Raw(q, userID).Scan(&readThrough)
	if res.Error != nil {
		return 0, res.Error
	}
	if res.RowsAffected == 0 {
		return 0, ErrNotFound
	}
	return readThrough, nil
}

// recordState numbers c and keeps it, inside the transaction that made
// the change, under lockUser.
func (s *Store) recordState(tx *gorm.DB, c models.StateChange) error {
	if err := tx.Raw("UPDATE users SET state_seq = state_seq + 1 WHERE id = ? RETURNING state_seq", c.UserID).Scan(&c.Seq).Error; err != nil {
		return fmt.Errorf("number the state change: %w", err)
	}
	c.CreatedAt = timestamp()
	if err := tx.Create(&c).Error; err != nil {
		return fmt.Errorf("record the state change: %w", err)
	}
	return nil
}

// StateSeq is the number of the user's newest state change (0 before the
// first): a page rendered now shows the state as of it.
func (s *Store) StateSeq(ctx context.Context, userID int64) (int64, error) {
	var seq int64
	res := s.db.WithContext(ctx).Raw("SELECT state_seq FROM users WHERE id = ?", userID).Scan(&seq)
	if res.Error != nil {
		return 0, fmt.Errorf("state number of user %d: %w", userID, res.Error)
	}
	if res.RowsAffected == 0 {
		return 0, fmt.Errorf("state number of user %d: %w", userID, ErrNotFound)
	}
	return seq, nil
}

// StateChangesAfter returns the user's state changes numbered after
// `after`, in order, at most limit of them, and the newest number. Fewer
// than newest-after means the rest are not there to read: pruned, or past
// limit.
func (s *Store) StateChangesAfter(ctx context.Context, userID, after int64, limit int) (changes []models.StateChange, newest int64, err error) {
	if newest, err = s.StateSeq(ctx, userID); err != nil {
		return nil, 0, err
	}
	if newest <= after {
		return nil, newest, nil
	}
	// Up to newest only: each of those has committed (its number was read
	// committed), so a later read never finds one below them.
	err = s.db.WithContext(ctx).Where("user_id = ? AND seq > ? AND seq <= ?", userID, after, newest).
		Order("seq").Limit(limit).Find(&changes).Error
	if err != nil {
		return nil, 0, fmt.Errorf("state changes of user %d after %d: %w", userID, after, err)
	}
	return changes, newest, nil
}

// PruneStateChangesBefore deletes the state changes recorded before t.
func (s *Store) PruneStateChangesBefore(ctx context.Context, t time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func() error {
		res := s.db.WithContext(ctx).Where("created_at < ?", t.UTC()).Delete(&models.StateChange{})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("prune state changes before %s: %w", t.Format(time.RFC3339), err)
	}
	return n, nil
}

// NotificationStates returns which of ids the user has read, and which
// they archived, in one query: what a resumed stream sends about what it
// replayed, and what the list API says of each item.
func (s *Store) NotificationStates(ctx context.Context, userID int64, ids []int64) (read, archived []int64, err error) {
	if len(ids) == 0 {
		return nil, nil, nil
	}
	var rows []struct {
		ID             int64
		Read, Archived bool
	}
	err = s.db.WithContext(ctx).Raw(`SELECT n.id, CASE WHEN `+readSQL("n", "u")+` THEN 1 ELSE 0 END AS read,
			CASE WHEN EXISTS (SELECT 1 FROM notification_archives a WHERE a.user_id = u.id AND a.notification_id = n.id)
				THEN 1 ELSE 0 END AS archived
		FROM notifications n JOIN users u ON u.id = ?
		WHERE n.id IN ? AND NOT n.scheduled ORDER BY n.id`, userID, ids).Scan(&rows).Error
	if err != nil {
		return nil, nil, fmt.Errorf("state of %d notifications for user %d: %w", len(ids), userID, err)
	}
	for _, r := range rows {
		if r.Read {
			read = append(read, r.ID)
		}
		if r.Archived {
			archived = append(archived, r.ID)
		}
	}
	return read, archived, nil
}
