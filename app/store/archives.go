package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"beacon/app/models"
)

// SetArchived archives notification id for user userID, or takes it out
// of the archive: ErrNotFound when it is not one they may see, so that a
// guess cannot tell that it exists.
func (s *Store) SetArchived(ctx context.Context, userID, id int64, archived bool) error {
	err := s.write(ctx, func() error {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if _, err := s.lockUser(tx, userID); err != nil {
				return err
			}
			var n models.Notification
			if err := tx.Scopes(visibleTo(userID), live).Select("id").Where("id = ?", id).Take(&n).Error; err != nil {
				return notFound(err)
			}
			var res *gorm.DB
			if archived {
				res = tx.Exec(`INSERT INTO notification_archives (user_id, notification_id, archived_at) VALUES (?, ?, ?)
					ON CONFLICT (user_id, notification_id) DO NOTHING`, userID, id, timestamp())
			} else {
				res = tx.Exec("DELETE FROM notification_archives WHERE user_id = ? AND notification_id = ?", userID, id)
			}
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error // no change: nothing to tell the streams
			}
			return s.recordState(tx, models.StateChange{UserID: userID, Kind: models.StateArchived, NotificationID: id, Value: archived})
		})
	})
	if err != nil {
		return fmt.Errorf("archive %v notification %d for user %d: %w", archived, id, userID, err)
	}
	return nil
}
