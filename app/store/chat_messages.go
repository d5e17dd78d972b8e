package store

import (
	"context"
	"fmt"
	"slices"

	"gorm.io/gorm"

	"beacon/app/models"
)

// chatMessagesLock is the PostgreSQL advisory lock that orders inserts into
// chat_messages (any constant other than notificationsLock).
const chatMessagesLock = 0x6265_6163_6f6e + 1

// CreateChatMessage stores m and sets its ID. As with notifications, when it
// returns every row with a smaller id is committed too, so a hub that
// follows ids never skips a message that commits late.
func (s *Store) CreateChatMessage(ctx context.Context, m *models.ChatMessage) error {
	err := s.lockedTx(ctx, chatMessagesLock, func(tx *gorm.DB) error {
		return tx.Omit("User").Create(m).Error
	})
	if err != nil {
		return fmt.Errorf("create chat message in %s: %w", m.Room, err)
	}
	return nil
}

// ChatMessagesAfter returns up to limit messages of room with id > after, in
// ascending id order, with their authors.
func (s *Store) ChatMessagesAfter(ctx context.Context, room string, after int64, limit int) ([]models.ChatMessage, error) {
	var ms []models.ChatMessage
	err := s.db.WithContext(ctx).Preload("User").Where("room = ? AND id > ?", room, after).
		Order("id").Limit(limit).Find(&ms).Error
	if err != nil {
		return nil, fmt.Errorf("chat messages in %s after %d: %w", room, after, err)
	}
	return ms, nil
}

// RecentChatMessages returns the newest limit messages of room, oldest
// first, as a chat shows them.
func (s *Store) RecentChatMessages(ctx context.Context, room string, limit int) ([]models.ChatMessage, error) {
	var ms []models.ChatMessage
	err := s.db.WithContext(ctx).Preload("User").Where("room = ?", room).
		Order("id DESC").Limit(limit).Find(&ms).Error
	if err != nil {
		return nil, fmt.Errorf("recent chat messages in %s: %w", room, err)
	}
	slices.Reverse(ms)
	return ms, nil
}
