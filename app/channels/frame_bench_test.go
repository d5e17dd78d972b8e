package channels_test

import (
	"context"
	"testing"
	"time"

	"beacon/app/channels"
	"beacon/app/models"
)

// BenchmarkNotificationFrame renders one notification's stream frame as
// the hub does once per notification: the HTML fragment, the JSON, the
// SSE framing. It reports the frame's size, since every subscriber is
// written (and parses) those bytes.
//
//	go test -run '^$' -bench NotificationFrame -benchmem ./app/channels/
func BenchmarkNotificationFrame(b *testing.B) {
	r := newRig(b, channels.HubOptions{Heartbeat: time.Hour})
	ctx := context.Background()
	n := models.Notification{
		ID: 123456, Title: "Deploy finished", Body: "v1.2 is live on every instance",
		Level: "success", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	var size int
	b.ReportAllocs()
	for b.Loop() {
		ev, err := r.hub.Encode(ctx, n)
		if err != nil {
			b.Fatal(err)
		}
		size = len(ev.Frame)
	}
	b.ReportMetric(float64(size), "B/frame")
}
