package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"beacon/app/models"
)

// notificationColumns are a notification's columns, in the order
// scanNotifications reads them.
const notificationColumns = `id, position, first_position, "key", title, body, level, url, recipient_id,
	audience_id, audience_position, deliver_at, scheduled, withdrawn_at, created_at, updated_at`

// scanNotifications runs query, which selects notificationColumns, and
// reads its rows itself: every instance's hub loads every change this way,
// and GORM's scanning by reflection was most of that load's time
// (BenchmarkHubLook).
func (s *Store) scanNotifications(ctx context.Context, query string, args ...any) ([]models.Notification, error) {
	rows, err := s.db.WithContext(ctx).Raw(query, args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ns []models.Notification
	for rows.Next() {
		var n models.Notification
		var key, url sql.Null[string]
		var recipient, audience sql.Null[int64]
		// updated_at may be NULL on SQLite (00005 added it so): read as
		// GORM read it, the zero time, rather than failing every look.
		var due, withdrawn, updated sql.Null[time.Time]
		err := rows.Scan(&n.ID, &n.Position, &n.FirstPosition, &key, &n.Title, &n.Body, &n.Level, &url, &recipient,
			&audience, &n.AudiencePosition, &due, &n.Scheduled, &withdrawn, &n.CreatedAt, &updated)
		if err != nil {
			return nil, fmt.Errorf("read notification: %w", err)
		}
		n.UpdatedAt = updated.V
		n.Key, n.URL, n.RecipientID, n.AudienceID = orNil(&key), orNil(&url), orNil(&recipient), orNil(&audience)
		n.DeliverAt, n.WithdrawnAt = orNil(&due), orNil(&withdrawn)
		ns = append(ns, n)
	}
	return ns, rows.Err()
}

// orNil points at v's value, or is nil when it is NULL: v was scanned
// into, so it lives on the heap already, and no copy is made.
func orNil[T any](v *sql.Null[T]) *T {
	if !v.Valid {
		return nil
	}
	return &v.V
}

// fillRecipients loads the recipient of each of ns addressed to one user,
// as GORM's Preload("Recipient") does: one query, and none when no one is.
func (s *Store) fillRecipients(ctx context.Context, ns []models.Notification) error {
	var ids []int64
	for _, n := range ns {
		if n.RecipientID != nil {
			ids = append(ids, *n.RecipientID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var users []models.User
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Find(&users).Error; err != nil {
		return fmt.Errorf("recipients: %w", err)
	}
	byID := make(map[int64]models.User, len(users))
	for _, u := range users {
		byID[u.ID] = u
	}
	for i := range ns {
		if id := ns[i].RecipientID; id != nil {
			if u, ok := byID[*id]; ok {
				ns[i].Recipient = &u
			}
		}
	}
	return nil
}
