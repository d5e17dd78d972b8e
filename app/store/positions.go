package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"beacon/app/audience"
	"beacon/app/models"
	"beacon/migrations"
)

// Stream positions. Ids and positions come from one sequence, the one that
// numbers notifications (SQLite's AUTOINCREMENT row in sqlite_sequence,
// PostgreSQL's identity sequence): an insert takes the next value as its
// id and its position, a change takes the next value as the row's new
// position. Every such write runs under positionedTx, so positions commit
// in the order they were taken; a post that is a plain insert takes its
// position in the statement that stores it (insertNotificationsSQL).

// nextPosition takes the next value of the sequence, inside a locked
// transaction.
func (s *Store) nextPosition(tx *gorm.DB) (int64, error) {
	var pos int64
	if s.dialect == migrations.Postgres {
		err := tx.Raw("SELECT nextval(pg_get_serial_sequence('notifications', 'id'))").Scan(&pos).Error
		if err != nil {
			return 0, fmt.Errorf("next position: %w", err)
		}
		return pos, nil
	}
	res := tx.Raw("UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'notifications' RETURNING seq").Scan(&pos)
	if res.Error != nil {
		return 0, fmt.Errorf("next position: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		// No notification was ever stored: the insert of id 1 that follows
		// creates the sequence's row.
		return 1, nil
	}
	return pos, nil
}

// LastPosition is the greatest stream position of any notification, or 0:
// a stream that starts there has every later change ahead of it.
func (s *Store) LastPosition(ctx context.Context) (int64, error) {
	var pos int64
	err := s.db.WithContext(ctx).Model(&models.Notification{}).Select("COALESCE(MAX(position), 0)").Scan(&pos).Error
	if err != nil {
		return 0, fmt.Errorf("last position: %w", err)
	}
	return pos, nil
}

// LastVisiblePosition is the greatest position of a change user userID (0:
// a visitor) may have received, withdrawals included, or the position
// reserved when their groups last changed if that is greater (see
// Membership), or 0. A cursor past it cannot have come from this viewer's
// stream.
func (s *Store) LastVisiblePosition(ctx context.Context, userID int64) (int64, error) {
	var pos int64
	// One the user was in the audience of before a change of audience
	// counts too: their stream and list tell them it is gone, at its
	// position or before.
	v := audience.User(userID)
	now, args := audience.Where("notifications", v)
	then, _ := audience.Where("h", v)
	err := s.db.WithContext(ctx).Raw(`SELECT COALESCE(MAX(p), 0) FROM (
		SELECT MAX(position) AS p FROM notifications WHERE `+now+` AND NOT scheduled
		UNION ALL SELECT MAX(n.position) FROM notification_audience_changes h JOIN notifications n ON n.id = h.notification_id
		WHERE `+then+`) AS t`, args...).Scan(&pos).Error
	if err != nil {
		return 0, fmt.Errorf("last position for user %d: %w", userID, err)
	}
	if userID != 0 {
		var since int64
		err := s.db.WithContext(ctx).Model(&models.User{}).Select("membership_position").Where("id = ?", userID).Scan(&since).Error
		if err != nil {
			return 0, fmt.Errorf("last position for user %d: %w", userID, err)
		}
		pos = max(pos, since)
	}
	return pos, nil
}

// PrunedThrough is the greatest position retention has deleted, or 0. A
// cursor below it may have missed changes that no longer exist: the
// stream answers it with `reset`.
func (s *Store) PrunedThrough(ctx context.Context) (int64, error) {
	var pos int64
	err := s.db.WithContext(ctx).Raw("SELECT pruned_through FROM stream_state WHERE id = 1").Scan(&pos).Error
	if err != nil {
		return 0, fmt.Errorf("pruned through: %w", err)
	}
	return pos, nil
}
