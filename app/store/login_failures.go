package store

import (
	"context"
	"fmt"
	"time"

	"beacon/app/models"
)

// AddLoginFailures records one failed sign-in at `at` against each subject.
func (s *Store) AddLoginFailures(ctx context.Context, subjects []string, at time.Time) error {
	rows := make([]models.LoginFailure, len(subjects))
	for i, sub := range subjects {
		rows[i] = models.LoginFailure{Subject: sub, FailedAt: at.UnixMilli()}
	}
	if err := s.db.WithContext(ctx).Create(&rows).Error; err != nil {
		return fmt.Errorf("record login failure: %w", err)
	}
	return nil
}

// NthLatestLoginFailure returns the time of subject's n-th latest failure
// (n from 1) at or after since, and false when it has fewer than n.
func (s *Store) NthLatestLoginFailure(ctx context.Context, subject string, n int, since time.Time) (time.Time, bool, error) {
	var at []int64
	err := s.db.WithContext(ctx).Model(&models.LoginFailure{}).
		Where("subject = ? AND failed_at >= ?", subject, since.UnixMilli()).
		Order("failed_at DESC").Offset(n-1).Limit(1).Pluck("failed_at", &at).Error
	if err != nil {
		return time.Time{}, false, fmt.Errorf("login failures of %s: %w", subject, err)
	}
	if len(at) == 0 {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(at[0]), true, nil
}

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
