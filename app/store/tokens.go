package store

import (
	"context"
	"fmt"
	"time"

	"beacon/app/models"
)

// CreateAPIToken stores the hash of a new token for user userID.
func (s *Store) CreateAPIToken(ctx context.Context, userID int64, tokenHash string) error {
	t := models.APIToken{UserID: userID, TokenHash: tokenHash}
	if err := s.db.WithContext(ctx).Omit("User").Create(&t).Error; err != nil {
		return fmt.Errorf("create api token for user %d: %w", userID, err)
	}
	return nil
}

// UserByTokenHash returns the owner of the token with this hash and records
// that the token was used.
func (s *Store) UserByTokenHash(ctx context.Context, tokenHash string) (models.User, error) {
	var t models.APIToken
	err := s.db.WithContext(ctx).Preload("User").Where("token_hash = ?", tokenHash).Take(&t).Error
	if err != nil {
		return models.User{}, fmt.Errorf("api token: %w", notFound(err))
	}
	now := time.Now().UTC()
	if err := s.db.WithContext(ctx).Model(&t).Update("last_used_at", now).Error; err != nil {
		return models.User{}, fmt.Errorf("api token %d: record use: %w", t.ID, err)
	}
	return t.User, nil
}
