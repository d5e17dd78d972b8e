package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"beacon/app/push"
)

// webpushKeys is the one row of webpush_keys.
type webpushKeys struct {
	ID         int64
	PublicKey  string
	PrivateKey string
	CreatedAt  time.Time
}

func (webpushKeys) TableName() string { return "webpush_keys" }

// WebPushKeys returns the VAPID key pair kept in the database, storing
// fresh ones from newKeys first if there is none. Instances starting at once
// each make a pair, one is stored, and all return that one.
func (s *Store) WebPushKeys(ctx context.Context, newKeys func() (push.Keys, error)) (push.Keys, error) {
	var row webpushKeys
	res := s.db.WithContext(ctx).Limit(1).Find(&row, 1)
	if res.Error != nil {
		return push.Keys{}, fmt.Errorf("web push keys: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		k, err := newKeys()
		if err != nil {
			return push.Keys{}, err
		}
		fresh := webpushKeys{ID: 1, PublicKey: k.Public, PrivateKey: k.Private, CreatedAt: timestamp()}
		err = s.write(ctx, func() error {
			return s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&fresh).Error
		})
		if err != nil {
			return push.Keys{}, fmt.Errorf("store web push keys: %w", err)
		}
		if err := s.db.WithContext(ctx).Take(&row, 1).Error; err != nil {
			return push.Keys{}, fmt.Errorf("web push keys: %w", err)
		}
	}
	return push.Keys{Public: row.PublicKey, Private: row.PrivateKey}, nil
}
