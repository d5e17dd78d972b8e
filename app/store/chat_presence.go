package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"beacon/app/models"
)

// SetChatPresence makes holder's online users in room exactly userIDs,
// each until expires (none: holder's rows are deleted, its goodbye), and
// drops every row of room that expired: an instance killed without a
// goodbye leaves rows that no one refreshes.
func (s *Store) SetChatPresence(ctx context.Context, room, holder string, userIDs []int64, expires time.Time) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		gone := tx.Table("chat_presence").Where("room = ? AND holder = ?", room, holder)
		if len(userIDs) > 0 {
			gone = gone.Where("user_id NOT IN ?", userIDs)
		}
		if err := gone.Delete(&models.ChatPresence{}).Error; err != nil {
			return err
		}
		if err := tx.Table("chat_presence").Where("room = ? AND expires_at <= ?", room, time.Now().UnixMilli()).
			Delete(&models.ChatPresence{}).Error; err != nil {
			return err
		}
		if len(userIDs) == 0 {
			return nil
		}
		rows := make([]models.ChatPresence, len(userIDs))
		for i, id := range userIDs {
			rows[i] = models.ChatPresence{Room: room, Holder: holder, UserID: id, ExpiresAt: expires.UnixMilli()}
		}
		return tx.Table("chat_presence").Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "room"}, {Name: "holder"}, {Name: "user_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"expires_at"}),
		}).Create(&rows).Error
	})
	if err != nil {
		return fmt.Errorf("set chat presence of %s in %s: %w", holder, room, err)
	}
	return nil
}

// ChatOnline returns the users online in room at now by every holder
// but except (the caller's own, which it knows better), each once, by id.
func (s *Store) ChatOnline(ctx context.Context, room, except string, now time.Time) ([]models.User, error) {
	held := s.db.Table("chat_presence").Select("user_id").
		Where("room = ? AND holder <> ? AND expires_at > ?", room, except, now.UnixMilli())
	var us []models.User
	err := s.db.WithContext(ctx).Select("id", "name").Where("id IN (?)", held).Order("id").Find(&us).Error
	if err != nil {
		return nil, fmt.Errorf("chat users online in %s: %w", room, err)
	}
	return us, nil
}
