package channels

import (
	"context"

	"beacon/app/models"
)

// Encode renders n's first-delivery frame as the hub does, for benchmarks.
func (h *NotificationHub) Encode(ctx context.Context, n models.Notification) (*Event, error) {
	return h.encode(ctx, n, kindNotification)
}
