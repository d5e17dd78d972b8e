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
	URL       *string   `json:"url"`
	Recipient *string   `json:"recipient"`
	CreatedAt time.Time `json:"created_at"`
	HTML      string    `json:"html"`
	Position  int64     `json:"position"`
	UpdatedAt time.Time `json:"updated_at"`
	Key       *string   `json:"key"`
	// Groups, for one addressed to a list: the groups the viewer sees it
	// through (audience.ShownTo).
	Groups []string `json:"groups,omitempty"`
	// To, for admins only: its whole audience (audience.ShownToAdmin).
	To *[]string `json:"to,omitempty"`
	// Read, in a signed-in viewer's list: whether they have read it.
	Read *bool `json:"read,omitempty"`
	// Archived, in a signed-in viewer's list: whether they archived it.
	Archived *bool `json:"archived,omitempty"`
}

// withdrawnJSON is what the list API and the long poll send for a
// notification that was withdrawn: enough for a client to drop it.
type withdrawnJSON struct {
	ID        int64 `json:"id"`
	Position  int64 `json:"position"`
	Withdrawn bool  `json:"withdrawn"`
}

// NotificationJSON encodes n's wire shape as compact JSON on one line: the
// stream's data field, and the API's notification, byte for byte. A
// withdrawn n is only {"id","position","withdrawn":true}: its content is
// gone for everyone.
func NotificationJSON(ctx context.Context, n models.Notification) ([]byte, error) {
	return encodeNotification(ctx, n, NotificationHTML)
}

// encodeNotification is NotificationJSON with the fragment from html.
func encodeNotification(ctx context.Context, n models.Notification, html func(context.Context, models.Notification) (string, error)) ([]byte, error) {
	if n.Withdrawn() {
		b, err := json.Marshal(withdrawnJSON{ID: n.ID, Position: n.Position, Withdrawn: true})
		if err != nil {
			return nil, fmt.Errorf("encode withdrawn notification %d: %w", n.ID, err)
		}
		return b, nil
	}
	fragment, err := html(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("render notification %d: %w", n.ID, err)
	}
	p := notificationJSON{
		ID: n.ID, Title: n.Title, Body: n.Body, Level: n.Level, URL: n.URL, CreatedAt: n.CreatedAt.UTC(), HTML: fragment,
		Position: n.Position, UpdatedAt: n.UpdatedAt.UTC(), Key: n.Key,
	}
	if email := n.RecipientEmail(); email != "" {
		p.Recipient = &email
	}
	p.Groups, p.Read, p.Archived = n.Groups, n.Read, n.Archived
	if n.To != nil {
		p.To = &n.To
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode notification %d: %w", n.ID, err)
	}
	return b, nil
}
