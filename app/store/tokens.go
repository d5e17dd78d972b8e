package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"beacon/app/models"
)

// CreateNamedAPIToken stores the hash of a new token called name for user
// userID and returns it.
func (s *Store) CreateNamedAPIToken(ctx context.Context, userID int64, name, tokenHash string) (models.APIToken, error) {
	t := models.APIToken{UserID: userID, Name: name, TokenHash: tokenHash}
	if err := s.db.WithContext(ctx).Omit("User").Create(&t).Error; err != nil {
		return t, fmt.Errorf("create api token for user %d: %w", userID, err)
	}
	return t, nil
}

// CreateReadToken stores the hash of a new personal read token called name
// for user userID and returns it.
func (s *Store) CreateReadToken(ctx context.Context, userID int64, name, tokenHash string) (models.APIToken, error) {
	t := models.APIToken{UserID: userID, Name: name, Scope: models.TokenRead, TokenHash: tokenHash}
	if err := s.db.WithContext(ctx).Omit("User").Create(&t).Error; err != nil {
		return t, fmt.Errorf("create read token for user %d: %w", userID, err)
	}
	return t, nil
}

// ReadTokens lists user userID's personal read tokens, oldest first.
func (s *Store) ReadTokens(ctx context.Context, userID int64) ([]models.APIToken, error) {
	var ts []models.APIToken
	err := s.db.WithContext(ctx).Where("user_id = ? AND scope = ?", userID, models.TokenRead).Order("id").Find(&ts).Error
	if err != nil {
		return nil, fmt.Errorf("list read tokens of user %d: %w", userID, err)
	}
	return ts, nil
}

// DeleteReadToken revokes user userID's personal read token id;
// ErrNotFound when they have none by that id. This instance refuses it at
// once; publish broker.TokensTopic for the others.
func (s *Store) DeleteReadToken(ctx context.Context, userID, id int64) error {
	res := s.db.WithContext(ctx).Where("id = ? AND user_id = ? AND scope = ?", id, userID, models.TokenRead).Delete(&models.APIToken{})
	s.ForgetTokens()
	if res.Error != nil {
		return fmt.Errorf("revoke read token %d of user %d: %w", id, userID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("revoke read token %d of user %d: %w", id, userID, ErrNotFound)
	}
	return nil
}

// tokenUseResolution is how precisely a token's last use is kept. Written
// on every call, it was a second write per post, and every post queued
// behind it for SQLite's single writer; once a minute per token is as
// much as "last used" needs.
const tokenUseResolution = time.Minute

// TokenCheckedFor is the longest an instance that keeps checked tokens
// (CacheTokens) goes without reading one again.
const TokenCheckedFor = tokenUseResolution

// UserByTokenHash returns the owner of the token with this hash and records
// when the token was last used, to tokenUseResolution. It reads the
// database every time, unless CacheTokens or CacheTokensByRevocations
// turned the cache on: then once per tokenUseResolution, and again after
// every revocation (see tokenCache), so that a revoked token is refused at
// once on every instance.
func (s *Store) UserByTokenHash(ctx context.Context, tokenHash string) (models.User, error) {
	now := time.Now().UTC()
	if !s.followRevocations(ctx) {
		return s.userByTokenHash(ctx, tokenHash, now)
	}
	u, ok, on, gen := s.tokens.cached(tokenHash, now)
	switch {
	case ok:
		return u, nil
	case on:
		return s.lookupToken(ctx, tokenHash, now, gen)
	}
	return s.userByTokenHash(ctx, tokenHash, now)
}

// userByTokenHash is UserByTokenHash from the database.
func (s *Store) userByTokenHash(ctx context.Context, tokenHash string, now time.Time) (models.User, error) {
	var t models.APIToken
	err := s.db.WithContext(ctx).Joins("User").Where("api_tokens.token_hash = ?", tokenHash).Take(&t).Error
	if err != nil {
		return models.User{}, fmt.Errorf("api token: %w", notFound(err))
	}
	if t.LastUsedAt != nil && now.Sub(*t.LastUsedAt) < tokenUseResolution {
		return t.User, nil
	}
	err = s.write(ctx, func() error {
		return s.db.WithContext(ctx).Model(&models.APIToken{}).Where("id = ?", t.ID).UpdateColumn("last_used_at", now).Error
	})
	if err != nil {
		return models.User{}, fmt.Errorf("api token %d: record use: %w", t.ID, err)
	}
	return t.User, nil
}

// APITokens lists every admin API token with its owner, oldest first;
// userID other than 0 lists that user's alone. Personal read tokens are
// their owners' (ReadTokens).
func (s *Store) APITokens(ctx context.Context, userID int64) ([]models.APIToken, error) {
	q := s.db.WithContext(ctx).Preload("User").Where("scope = ?", models.TokenAdmin).Order("id")
	if userID != 0 {
		q = q.Where("user_id = ?", userID)
	}
	var ts []models.APIToken
	if err := q.Find(&ts).Error; err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	return ts, nil
}

// DeleteAPIToken revokes the token with this id and returns it;
// ErrNotFound when there is none. This instance refuses it at once;
// publish broker.TokensTopic for the others, and the owner's topic for
// the streams it opened.
func (s *Store) DeleteAPIToken(ctx context.Context, id int64) (models.APIToken, error) {
	var t models.APIToken
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Take(&t, id).Error; err != nil {
			return notFound(err)
		}
		return tx.Delete(&t).Error
	})
	s.ForgetTokens()
	if err != nil {
		return t, fmt.Errorf("revoke api token %d: %w", id, err)
	}
	return t, nil
}

// DeleteAPITokenByHash revokes the token with this hash and returns it;
// ErrNotFound when there is none. This instance refuses it at once;
// publish broker.TokensTopic for the others.
func (s *Store) DeleteAPITokenByHash(ctx context.Context, tokenHash string) (models.APIToken, error) {
	var t models.APIToken
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("token_hash = ?", tokenHash).Take(&t).Error; err != nil {
			return notFound(err)
		}
		return tx.Delete(&t).Error
	})
	s.ForgetTokens()
	if err != nil {
		return t, fmt.Errorf("revoke api token: %w", err)
	}
	return t, nil
}
