package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"beacon/app/models"
)

// signupsLock serializes counting and recording sign-ups on PostgreSQL.
const signupsLock = notificationsLock + 3

// BeginSignup records a sign-up from address at at, unless limit of them
// were recorded after since; then it records nothing and returns the time
// of the limit-th latest, when one more may be tried. Older rows are
// forgotten on the way. Counting and recording are one step, so that
// concurrent sign-ups cannot all pass the limit.
func (s *Store) BeginSignup(ctx context.Context, address string, limit int, since, at time.Time) (blockedAt time.Time, err error) {
	err = s.lockedTx(ctx, signupsLock, func(tx *gorm.DB) error {
		if err := tx.Where("created_at <= ?", since.UnixMilli()).Delete(&models.Signup{}).Error; err != nil {
			return err
		}
		var nth []int64
		err := tx.Model(&models.Signup{}).Where("address = ? AND created_at > ?", address, since.UnixMilli()).
			Order("created_at DESC").Offset(limit-1).Limit(1).Pluck("created_at", &nth).Error
		if err != nil {
			return err
		}
		if len(nth) > 0 {
			blockedAt = time.UnixMilli(nth[0])
			return nil
		}
		return tx.Create(&models.Signup{Address: address, CreatedAt: at.UnixMilli()}).Error
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("begin signup from %s: %w", address, err)
	}
	return blockedAt, nil
}
