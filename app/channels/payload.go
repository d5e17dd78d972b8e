package channels

import (
	"context"
	"fmt"
	"time"

	"beacon/app/models"
)

// Renderer renders the HTML fragment of a notification: the same one the
// feed page shows.
type Renderer func(ctx context.Context, n models.Notification) (string, error)

// NotificationJSON is a notification as the stream, the list API and the
// long poll send it.
type NotificationJSON struct {
	ID        int64     `json:"id"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	Level     string    `json:"level"`
	Recipient *string   `json:"recipient"`
	CreatedAt time.Time `json:"created_at"`
	HTML      string    `json:"html"`
}

// NewNotificationJSON renders n for the wire.
func NewNotificationJSON(ctx context.Context, render Renderer, n models.Notification) (NotificationJSON, error) {
	html, err := render(ctx, n)
	if err != nil {
		return NotificationJSON{}, fmt.Errorf("render notification %d: %w", n.ID, err)
	}
	p := NotificationJSON{ID: n.ID, Title: n.Title, Body: n.Body, Level: n.Level, CreatedAt: n.CreatedAt.UTC(), HTML: html}
	if email := n.RecipientEmail(); email != "" {
		p.Recipient = &email
	}
	return p, nil
}
