package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"beacon/app/models"
)

// NormalizeEmail is the form emails are stored and looked up in.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// CreateUser inserts u, returning ErrEmailTaken when the email is in use.
func (s *Store) CreateUser(ctx context.Context, u *models.User) error {
	u.Email = NormalizeEmail(u.Email)
	err := s.db.WithContext(ctx).Create(u).Error
	if duplicate(err) {
		return ErrEmailTaken
	}
	if err != nil {
		return fmt.Errorf("create user %s: %w", u.Email, err)
	}
	return nil
}

// UserByEmail finds a user by email, in any letter case.
func (s *Store) UserByEmail(ctx context.Context, email string) (models.User, error) {
	var u models.User
	err := s.db.WithContext(ctx).Where("lower(email) = ?", NormalizeEmail(email)).Take(&u).Error
	if err != nil {
		return u, fmt.Errorf("user %s: %w", email, notFound(err))
	}
	return u, nil
}

// UserByID finds a user by id.
func (s *Store) UserByID(ctx context.Context, id int64) (models.User, error) {
	var u models.User
	if err := s.db.WithContext(ctx).Take(&u, id).Error; err != nil {
		return u, fmt.Errorf("user %d: %w", id, notFound(err))
	}
	return u, nil
}

// SaveAdmin makes sure an admin with this email exists and has this
// password hash: it creates the user, or promotes and updates an existing one.
func (s *Store) SaveAdmin(ctx context.Context, email, name, passwordHash string) (models.User, error) {
	var u models.User
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Where("lower(email) = ?", NormalizeEmail(email)).Take(&u).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			u = models.User{Name: name, Email: NormalizeEmail(email), PasswordHash: passwordHash, Admin: true}
			return tx.Create(&u).Error
		case err != nil:
			return err
		}
		u.Admin, u.PasswordHash = true, passwordHash
		// Only these columns: a full Save would write back a stale
		// read_through_id over a concurrent "mark all as read".
		return tx.Model(&u).Select("admin", "password_hash", "updated_at").Updates(&u).Error
	})
	if err != nil {
		return u, fmt.Errorf("save admin %s: %w", email, err)
	}
	return u, nil
}

// GrantAdmin makes the user with id userID an admin; one already is
// unchanged. Taking it away is RevokeAdmin, which also revokes their
// API tokens.
func (s *Store) GrantAdmin(ctx context.Context, userID int64) error {
	err := s.db.WithContext(ctx).Model(&models.User{ID: userID}).Select("admin", "updated_at").
		Updates(&models.User{Admin: true}).Error
	if err != nil {
		return fmt.Errorf("grant admin to user %d: %w", userID, err)
	}
	return nil
}

// HasAdmin reports whether any admin exists.
func (s *Store) HasAdmin(ctx context.Context) (bool, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&models.User{}).Where("admin = ?", true).Count(&n).Error; err != nil {
		return false, fmt.Errorf("count admins: %w", err)
	}
	return n > 0, nil
}

// RevokeAdmin takes admin rights away from the user with this email (the
// user stays) and revokes their admin API tokens, so that promoting them
// again does not bring old tokens back; their personal read tokens stay. Publish broker.TokensTopic after it, as
// after DeleteAPIToken.
func (s *Store) RevokeAdmin(ctx context.Context, email string) (models.User, error) {
	var u models.User
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("lower(email) = ?", NormalizeEmail(email)).Take(&u).Error; err != nil {
			return notFound(err)
		}
		if err := tx.Where("user_id = ? AND scope = ?", u.ID, models.TokenAdmin).Delete(&models.APIToken{}).Error; err != nil {
			return err
		}
		u.Admin = false
		return tx.Model(&u).Select("admin", "updated_at").Updates(&u).Error
	})
	s.ForgetTokens()
	if err != nil {
		return u, fmt.Errorf("revoke admin %s: %w", email, err)
	}
	return u, nil
}
