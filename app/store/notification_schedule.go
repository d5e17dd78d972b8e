package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"beacon/app/models"
)

// deliverBatch bounds how many notifications one transaction delivers, so
// that posts never wait long behind the lock.
const deliverBatch = 500

// DeliverDue makes every scheduled notification due at now live: each
// gets a new position, which is also its FirstPosition, so streams send it
// as a first `notification`. Under the notifications lock, and with a
// conditional update, each is delivered exactly once however many
// instances call this at the same moment. It returns how many this call
// delivered, and when the next one falls due (zero when none waits).
func (s *Store) DeliverDue(ctx context.Context, now time.Time) (delivered int, next time.Time, err error) {
	now = now.UTC()
	for more := true; more; {
		var n int
		n, more, err = s.deliverBatch(ctx, now)
		delivered += n
		if err != nil {
			return delivered, time.Time{}, fmt.Errorf("deliver due notifications: %w", err)
		}
	}
	next, err = s.NextDue(ctx)
	return delivered, next, err
}

// deliverBatch delivers up to deliverBatch due notifications in one
// locked transaction; more reports that there may be others.
func (s *Store) deliverBatch(ctx context.Context, now time.Time) (delivered int, more bool, err error) {
	err = s.lockedTx(ctx, notificationsLock, func(tx *gorm.DB) error {
		delivered = 0
		var ids []int64
		err := tx.Model(&models.Notification{}).Where("scheduled AND withdrawn_at IS NULL AND deliver_at <= ?", now).
			Order("deliver_at, id").Limit(deliverBatch).Pluck("id", &ids).Error
		if err != nil {
			return err
		}
		more = len(ids) == deliverBatch
		for _, id := range ids {
			pos, err := s.nextPosition(tx)
			if err != nil {
				return err
			}
			// Conditional: another instance may have delivered it between
			// our read and the lock (SQLite), or the lock makes it moot
			// (PostgreSQL); either way it goes live once.
			res := tx.Model(&models.Notification{}).Where("id = ? AND scheduled", id).
				Updates(map[string]any{"scheduled": false, "position": pos, "first_position": pos, "updated_at": timestamp()})
			if res.Error != nil {
				return res.Error
			}
			delivered += int(res.RowsAffected)
		}
		return nil
	})
	if err != nil {
		return 0, false, err
	}
	return delivered, more, nil
}

// NextDue is when the earliest scheduled notification falls due, or the
// zero time when none waits.
func (s *Store) NextDue(ctx context.Context) (time.Time, error) {
	var n models.Notification
	err := s.db.WithContext(ctx).Select("deliver_at").Where("scheduled AND withdrawn_at IS NULL").
		Order("deliver_at").Take(&n).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("next due notification: %w", err)
	}
	return *n.DeliverAt, nil
}
