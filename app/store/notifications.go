package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"beacon/app/models"
	"beacon/migrations"
)

// notificationsLock is the PostgreSQL advisory lock that orders inserts
// into notifications (any constant; it only has to be the same everywhere).
const notificationsLock = 0x6265_6163_6f6e

// CreateNotification stores n and sets its ID. When it returns, the row is
// committed, and so is every row with a smaller id: readers that follow
// ids never skip one that commits late. SQLite gets that from its single
// writer; PostgreSQL assigns ids before commit, so inserts take a
// transaction-scoped lock there.
func (s *Store) CreateNotification(ctx context.Context, n *models.Notification) error {
	err := s.lockedTx(ctx, notificationsLock, func(tx *gorm.DB) error {
		return tx.Omit("Recipient").Create(n).Error
	})
	if err != nil {
		return fmt.Errorf("create notification %q: %w", n.Title, err)
	}
	return nil
}

// lockedTx runs fn in a transaction that, on PostgreSQL, holds the
// advisory lock named lock until it commits. Inserts made under one lock
// commit in id order. (SQLite transactions begin as the single writer.)
func (s *Store) lockedTx(ctx context.Context, lock int64, fn func(tx *gorm.DB) error) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.dialect == migrations.Postgres {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", lock).Error; err != nil {
				return err
			}
		}
		return fn(tx)
	})
}

// visibleTo limits a query to what the user with id userID (0: a visitor)
// may see: broadcasts, and notifications addressed to that user.
func visibleTo(userID int64) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		if userID == 0 {
			return db.Where("recipient_id IS NULL")
		}
		return db.Where("recipient_id IS NULL OR recipient_id = ?", userID)
	}
}

// NotificationsAfter returns up to limit notifications with id > after that
// user userID may see, in ascending id order. The feed's list, its long poll
// and the stream's replay all read through it.
func (s *Store) NotificationsAfter(ctx context.Context, userID, after int64, limit int) ([]models.Notification, error) {
	var ns []models.Notification
	err := s.db.WithContext(ctx).Preload("Recipient").Scopes(visibleTo(userID)).
		Where("id > ?", after).Order("id").Limit(limit).Find(&ns).Error
	if err != nil {
		return nil, fmt.Errorf("notifications after %d for user %d: %w", after, userID, err)
	}
	return ns, nil
}

// AllNotificationsAfter is NotificationsAfter for every recipient: the hub
// loads each new notification once and decides per subscriber.
func (s *Store) AllNotificationsAfter(ctx context.Context, after int64, limit int) ([]models.Notification, error) {
	var ns []models.Notification
	err := s.db.WithContext(ctx).Preload("Recipient").
		Where("id > ?", after).Order("id").Limit(limit).Find(&ns).Error
	if err != nil {
		return nil, fmt.Errorf("notifications after %d: %w", after, err)
	}
	return ns, nil
}

// RecentNotifications returns the newest limit notifications user userID may
// see, newest first.
func (s *Store) RecentNotifications(ctx context.Context, userID int64, limit int) ([]models.Notification, error) {
	var ns []models.Notification
	err := s.db.WithContext(ctx).Preload("Recipient").Scopes(visibleTo(userID)).
		Order("id DESC").Limit(limit).Find(&ns).Error
	if err != nil {
		return nil, fmt.Errorf("recent notifications for user %d: %w", userID, err)
	}
	return ns, nil
}

// LatestNotifications returns the newest limit notifications for every
// recipient, newest first, with their read counts, for the admin list.
func (s *Store) LatestNotifications(ctx context.Context, limit int) ([]models.Notification, error) {
	var ns []models.Notification
	err := s.db.WithContext(ctx).Preload("Recipient").Order("id DESC").Limit(limit).Find(&ns).Error
	if err != nil {
		return nil, fmt.Errorf("latest notifications: %w", err)
	}
	if err := s.fillReadBy(ctx, ns); err != nil {
		return nil, fmt.Errorf("latest notifications: %w", err)
	}
	return ns, nil
}

// LastNotificationID is the greatest notification id, or 0 when there is none.
func (s *Store) LastNotificationID(ctx context.Context) (int64, error) {
	var id int64
	err := s.db.WithContext(ctx).Model(&models.Notification{}).Select("COALESCE(MAX(id), 0)").Scan(&id).Error
	if err != nil {
		return 0, fmt.Errorf("last notification id: %w", err)
	}
	return id, nil
}

// LastVisibleNotificationID is the greatest id of a notification user
// userID (0: a visitor) may see, or 0.
func (s *Store) LastVisibleNotificationID(ctx context.Context, userID int64) (int64, error) {
	var id int64
	err := s.db.WithContext(ctx).Model(&models.Notification{}).Scopes(visibleTo(userID)).
		Select("COALESCE(MAX(id), 0)").Scan(&id).Error
	if err != nil {
		return 0, fmt.Errorf("last notification id for user %d: %w", userID, err)
	}
	return id, nil
}

// AddDeliveries counts n more live deliveries of notification id.
func (s *Store) AddDeliveries(ctx context.Context, id, n int64) error {
	err := s.db.WithContext(ctx).Model(&models.Notification{}).Where("id = ?", id).
		Update("deliveries", gorm.Expr("deliveries + ?", n)).Error
	if err != nil {
		return fmt.Errorf("add %d deliveries to notification %d: %w", n, id, err)
	}
	return nil
}
