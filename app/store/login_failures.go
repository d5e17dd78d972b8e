package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"beacon/app/models"
)

// DeleteLoginFailures forgets subject's failures (after a good sign-in).
func (s *Store) DeleteLoginFailures(ctx context.Context, subject string) error {
	if err := s.db.WithContext(ctx).Where("subject = ?", subject).Delete(&models.LoginFailure{}).Error; err != nil {
		return fmt.Errorf("clear login failures of %s: %w", subject, err)
	}
	return nil
}

// DeleteLoginFailuresBefore forgets every failure older than t.
func (s *Store) DeleteLoginFailuresBefore(ctx context.Context, t time.Time) error {
	if err := s.db.WithContext(ctx).Where("failed_at < ?", t.UnixMilli()).Delete(&models.LoginFailure{}).Error; err != nil {
		return fmt.Errorf("prune login failures: %w", err)
	}
	return nil
}

// loginFailuresLock serializes sign-in attempts on PostgreSQL, so that
// counting and recording one is atomic (SQLite's single writer does that).
const loginFailuresLock = notificationsLock + 2

// BeginLoginAttempt counts failures after since against each subject
// and, unless one of them already has limit, records one more against each
// (the attempt counts as failed until its rows are deleted) and returns
// their ids. Otherwise it records nothing and returns the time of the
// limit-th latest failure of the subject that is full: the attempt may be
// retried when that one ages out. Counting and recording are one step, so
// concurrent attempts cannot all pass the limit.
func (s *Store) BeginLoginAttempt(ctx context.Context, subjects []string, limit int, since, at time.Time) (ids []int64, blockedAt time.Time, err error) {
	err = s.lockedTx(ctx, loginFailuresLock, func(tx *gorm.DB) error {
		for _, sub := range subjects {
			var nth []int64
			err := tx.Model(&models.LoginFailure{}).
				Where("subject = ? AND failed_at > ?", sub, since.UnixMilli()).
				Order("failed_at DESC").Offset(limit-1).Limit(1).Pluck("failed_at", &nth).Error
			if err != nil {
				return err
			}
			if len(nth) > 0 && time.UnixMilli(nth[0]).After(blockedAt) {
				blockedAt = time.UnixMilli(nth[0])
			}
		}
		if !blockedAt.IsZero() {
			return nil
		}
		rows := make([]models.LoginFailure, len(subjects))
		for i, sub := range subjects {
			rows[i] = models.LoginFailure{Subject: sub, FailedAt: at.UnixMilli()}
		}
		if err := tx.Create(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			ids = append(ids, r.ID)
		}
		return nil
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("begin login attempt: %w", err)
	}
	return ids, blockedAt, nil
}

// DeleteLoginAttempt forgets the rows of an attempt that succeeded.
func (s *Store) DeleteLoginAttempt(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if err := s.db.WithContext(ctx).Delete(&models.LoginFailure{}, ids).Error; err != nil {
		return fmt.Errorf("forget login attempt: %w", err)
	}
	return nil
}
