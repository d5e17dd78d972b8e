package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// PublishConnectionCounts records this instance's open connections per
// subject until expires: changed holds the subjects whose count changed
// since the last call (0 removes one). Instances whose rows expired are
// removed on the way, with their counts.
func (s *Store) PublishConnectionCounts(ctx context.Context, instance string, changed map[string]int, expires time.Time) error {
	now := time.Now().UnixMilli()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO connection_instances (instance, expires_at) VALUES (?, ?)
			ON CONFLICT (instance) DO UPDATE SET expires_at = excluded.expires_at`, instance, expires.UnixMilli()).Error; err != nil {
			return err
		}
		for subject, n := range changed {
			var err error
			if n <= 0 {
				err = tx.Exec(`DELETE FROM connection_counts WHERE instance = ? AND subject = ?`, instance, subject).Error
			} else {
				err = tx.Exec(`INSERT INTO connection_counts (instance, subject, count) VALUES (?, ?, ?)
					ON CONFLICT (instance, subject) DO UPDATE SET count = excluded.count`, instance, subject, n).Error
			}
			if err != nil {
				return err
			}
		}
		// Counts go with their instance (ON DELETE CASCADE); SQLite
		// needs foreign_keys on for that, which the DSN sets.
		return tx.Exec(`DELETE FROM connection_instances WHERE expires_at < ?`, now).Error
	})
	if err != nil {
		return fmt.Errorf("publish connection counts of %s: %w", instance, err)
	}
	return nil
}

// OtherConnectionCounts sums the open connections per subject of every
// instance but this one whose counts have not expired.
func (s *Store) OtherConnectionCounts(ctx context.Context, instance string) (map[string]int, error) {
	var rows []struct {
		Subject string
		Total   int
	}
	err := s.db.WithContext(ctx).Raw(`SELECT c.subject AS subject, SUM(c.count) AS total
		FROM connection_counts c JOIN connection_instances i ON i.instance = c.instance
		WHERE c.instance <> ? AND i.expires_at >= ?
		GROUP BY c.subject`, instance, time.Now().UnixMilli()).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read other instances' connection counts: %w", err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.Subject] = r.Total
	}
	return out, nil
}

// ForgetConnectionCounts removes this instance's counts, as it stops.
func (s *Store) ForgetConnectionCounts(ctx context.Context, instance string) error {
	if err := s.db.WithContext(ctx).Exec(`DELETE FROM connection_instances WHERE instance = ?`, instance).Error; err != nil {
		return fmt.Errorf("forget connection counts of %s: %w", instance, err)
	}
	return nil
}
