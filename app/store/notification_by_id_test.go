package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"beacon/app/models"
)

func TestNotificationByID(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			a := user(t, s, "a@example.com")
			id := post(t, s, &a)
			n, err := s.NotificationByID(ctx, id)
			if err != nil || n.ID != id || n.Recipient == nil || n.Recipient.Email != a.Email {
				t.Fatalf("by id %d: %+v, %v", id, n, err)
			}
			// Counting deliveries changes nothing a client sees.
			if err := s.AddDeliveryCounts(ctx, map[int64]int64{id: 3}); err != nil {
				t.Fatal(err)
			}
			if m := must(s.NotificationByID(ctx, id)); m.Deliveries != 3 || !m.UpdatedAt.Equal(n.UpdatedAt) {
				t.Fatalf("after deliveries: %d, updated_at %v, want %v", m.Deliveries, m.UpdatedAt, n.UpdatedAt)
			}
			due := time.Now().Add(time.Hour)
			sched := models.Notification{Title: "later", Level: "info", DeliverAt: &due}
			if _, err := s.CreateOrReplaceNotification(ctx, &sched); err != nil {
				t.Fatal(err)
			}
			if n, err := s.NotificationByID(ctx, sched.ID); err != nil || !n.Scheduled {
				t.Fatalf("scheduled by id: %+v, %v", n, err)
			}
			last := must(s.LastPosition(ctx))
			if _, err := s.WithdrawNotification(ctx, id); err != nil {
				t.Fatal(err)
			}
			if n, err := s.NotificationByID(ctx, id); err != nil || !n.Withdrawn() || n.Position <= last {
				t.Fatalf("withdrawn by id: %+v, %v", n, err)
			}
			// Reading takes no position.
			before := must(s.LastPosition(ctx))
			if _, err := s.NotificationByID(ctx, sched.ID); err != nil {
				t.Fatal(err)
			}
			if after := must(s.LastPosition(ctx)); after != before {
				t.Fatalf("a read moved the last position from %d to %d", before, after)
			}
			if _, err := s.NotificationByID(ctx, sched.ID+100); !errors.Is(err, ErrNotFound) {
				t.Fatalf("missing: %v, want ErrNotFound", err)
			}
		})
	}
}
