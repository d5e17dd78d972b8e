package components

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"beacon/app/models"
)

// notificationJSON is a notification on the wire: as the stream, the list
// API, the long poll and the create API send it. Its html is the
// Notification component, the same fragment the feed page renders.
type notificationJSON struct {
	ID        int64     `json:"id"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	Level     string    `json:"level"`
	Recipient *string   `json:"recipient"`
	CreatedAt time.Time `json:"created_at"`
	HTML      string    `json:"html"`
}

// NotificationJSON encodes n's wire shape as compact JSON on one line: the
// stream's data field, and the API's notification, byte for byte.
func NotificationJSON(ctx context.Context, n models.Notification) ([]byte, error) {
	html, err := NotificationHTML(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("render notification %d: %w", n.ID, err)
	}
	p := notificationJSON{ID: n.ID, Title: n.Title, Body: n.Body, Level: n.Level, CreatedAt: n.CreatedAt.UTC(), HTML: html}
	if email := n.RecipientEmail(); email != "" {
		p.Recipient = &email
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode notification %d: %w", n.ID, err)
	}
	return b, nil
}
