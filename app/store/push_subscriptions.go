package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"beacon/app/models"
)

// SavePushSubscription stores sub for its user, or, when its endpoint is
// known, takes it over (new keys, and the user now signed in on that
// browser): created reports which. A user keeps at most
// models.MaxPushSubscriptions: the oldest beyond it are deleted.
func (s *Store) SavePushSubscription(ctx context.Context, sub *models.PushSubscription) (created bool, err error) {
	err = s.write(ctx, func() error {
		return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var known models.PushSubscription
			res := tx.Where("endpoint = ?", sub.Endpoint).Limit(1).Find(&known)
			if res.Error != nil {
				return res.Error
			}
			created = res.RowsAffected == 0
			if created {
				sub.CreatedAt = timestamp()
				if err := tx.Create(sub).Error; err != nil {
					return err
				}
			} else {
				err := tx.Model(&known).Updates(map[string]any{"user_id": sub.UserID, "p256dh": sub.P256dh, "auth": sub.Auth,
					"user_agent": sub.UserAgent}).Error
				if err != nil {
					return err
				}
				sub.ID, sub.CreatedAt = known.ID, known.CreatedAt
			}
			return tx.Exec(`DELETE FROM push_subscriptions WHERE user_id = ? AND id NOT IN
				(SELECT id FROM push_subscriptions WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT ?)`,
				sub.UserID, sub.UserID, models.MaxPushSubscriptions).Error
		})
	})
	if err != nil {
		return false, fmt.Errorf("save push subscription for user %d: %w", sub.UserID, err)
	}
	return created, nil
}

// DeletePushSubscription deletes user userID's subscription at endpoint;
// deleting one that is not there (or not theirs) is no error.
func (s *Store) DeletePushSubscription(ctx context.Context, userID int64, endpoint string) error {
	err := s.write(ctx, func() error {
		return s.db.WithContext(ctx).Where("user_id = ? AND endpoint = ?", userID, endpoint).Delete(&models.PushSubscription{}).Error
	})
	if err != nil {
		return fmt.Errorf("delete push subscription of user %d: %w", userID, err)
	}
	return nil
}

// PushSubscriptionsOf returns user userID's subscriptions, newest first.
func (s *Store) PushSubscriptionsOf(ctx context.Context, userID int64) ([]models.PushSubscription, error) {
	var subs []models.PushSubscription
	if err := s.db.WithContext(ctx).Where("user_id = ?", userID).Order("created_at DESC, id DESC").Find(&subs).Error; err != nil {
		return nil, fmt.Errorf("push subscriptions of user %d: %w", userID, err)
	}
	return subs, nil
}

// DeletePushSubscriptionByID deletes subscription id of user userID:
// ErrNotFound when there is none of theirs, so that a guess cannot tell.
func (s *Store) DeletePushSubscriptionByID(ctx context.Context, userID, id int64) error {
	var deleted int64
	err := s.write(ctx, func() error {
		res := s.db.WithContext(ctx).Where("id = ? AND user_id = ?", id, userID).Delete(&models.PushSubscription{})
		deleted = res.RowsAffected
		return res.Error
	})
	switch {
	case err != nil:
		return fmt.Errorf("delete push subscription %d of user %d: %w", id, userID, err)
	case deleted == 0:
		return fmt.Errorf("delete push subscription %d of user %d: %w", id, userID, ErrNotFound)
	}
	return nil
}
