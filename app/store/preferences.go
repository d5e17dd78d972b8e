package store

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"beacon/app/models"
)

// PreferencesOf is user userID's preferences, or the defaults when they
// never saved any.
func (s *Store) PreferencesOf(ctx context.Context, userID int64) (models.Preferences, error) {
	var p models.Preferences
	err := s.db.WithContext(ctx).Where("user_id = ?", userID).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return models.DefaultPreferences(userID), nil
	}
	if err != nil {
		return models.Preferences{}, fmt.Errorf("preferences of user %d: %w", userID, err)
	}
	return p, nil
}

// SavePreferences stores p (checked by the caller) for its user.
func (s *Store) SavePreferences(ctx context.Context, p models.Preferences) error {
	p.UpdatedAt = timestamp()
	err := s.write(ctx, func() error {
		return s.db.WithContext(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&p).Error
	})
	if err != nil {
		return fmt.Errorf("save preferences of user %d: %w", p.UserID, err)
	}
	return nil
}
