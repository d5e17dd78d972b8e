package stream_test

import (
	"context"
	"testing"
	"time"

	"beacon/app/models"
	"beacon/app/stream"
)

// BenchmarkNotificationFrame renders one notification's stream frame as
// the hub does once per notification: the HTML fragment, the JSON, the
// SSE framing, in every variant a stream may ask for. It reports each
// variant's size, since every subscriber is written (and parses) those
// bytes: B/frame with every field, html-B/frame with fields=html (the feed
// page's), json-B/frame with fields=json.
//
//	go test -run '^$' -bench NotificationFrame -benchmem ./app/stream/
func BenchmarkNotificationFrame(b *testing.B) {
	r := newRig(b, stream.Options{Heartbeat: time.Hour})
	ctx := context.Background()
	n := models.Notification{
		ID: 123456, Title: "Deploy finished", Body: "v1.2 is live on every instance",
		Level: "success", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	var ev *stream.Event
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if ev, err = r.hub.Encode(ctx, n); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(ev.FrameFor(stream.AllFields))), "B/frame")
	b.ReportMetric(float64(len(ev.FrameFor(stream.HTMLFields))), "html-B/frame")
	b.ReportMetric(float64(len(ev.FrameFor(stream.JSONFields))), "json-B/frame")
}
