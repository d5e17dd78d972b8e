package store

import (
	"context"
	"testing"
	"time"

	"beacon/app/models"
)

// A scheduled notification is as new as the moment it falls due: "mark all
// read" before then does not cover it, the unread count takes it in when
// the stream has sent it, and the feed lists it first.
func TestScheduledReadStateFollowsDelivery(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			a := user(t, s, "a@example.com")
			due := time.Now().Add(time.Hour).UTC()
			sched := models.Notification{Title: "later", Level: "info", DeliverAt: &due}
			if _, err := s.CreateOrReplaceNotification(ctx, &sched); err != nil {
				t.Fatal(err)
			}
			var last int64
			for range 3 {
				last = post(t, s, nil)
			}
			if last <= sched.ID {
				t.Fatalf("posted %d after scheduled %d", last, sched.ID)
			}
			// The page showed everything through last, and a marked it all.
			if err := s.MarkAllRead(ctx, a.ID, last); err != nil {
				t.Fatal(err)
			}
			wantUnread(t, s, a, NoLimit, 0)
			admin := must(s.LatestNotifications(ctx, 10))
			if got := readBy(admin, sched.ID); got != 0 {
				t.Fatalf("scheduled one read by %d before it was delivered", got)
			}

			if n, _, err := s.DeliverDue(ctx, due.Add(time.Second)); err != nil || n != 1 {
				t.Fatalf("deliver: %d, %v", n, err)
			}
			recent := must(s.RecentNotifications(ctx, a.ID, 10))
			if len(recent) != 4 || recent[0].ID != sched.ID || recent[1].ID != last {
				t.Fatalf("feed order %v, want %d first, then %d", ids(recent), sched.ID, last)
			}
			delivered := recent[0].FirstPosition
			if delivered <= last {
				t.Fatalf("delivered at position %d, not after %d", delivered, last)
			}
			// It arrives unread; a stream that has sent only up to last
			// does not count it yet, one that sent it does.
			wantUnread(t, s, a, last, 0)
			wantUnread(t, s, a, delivered, 1)
			wantUnread(t, s, a, NoLimit, 1)
			if read := must(s.ReadNotificationIDs(ctx, a.ID, []int64{sched.ID, last})); read[sched.ID] || !read[last] {
				t.Fatalf("read state %v: want %d unread, %d read", read, sched.ID, last)
			}

			// A single read by id, then mark all past it: the read row goes.
			if err := s.MarkRead(ctx, a.ID, sched.ID); err != nil {
				t.Fatal(err)
			}
			wantUnread(t, s, a, NoLimit, 0)
			if got := readBy(must(s.LatestNotifications(ctx, 10)), sched.ID); got != 1 {
				t.Fatalf("read by %d after a's read, want 1", got)
			}
			if err := s.MarkAllRead(ctx, a.ID, delivered); err != nil {
				t.Fatal(err)
			}
			var left int64
			s.db.Model(&models.NotificationRead{}).Where("user_id = ?", a.ID).Count(&left)
			if left != 0 {
				t.Fatalf("%d single reads left below the watermark", left)
			}
			wantUnread(t, s, a, NoLimit, 0)
			if got := readBy(must(s.LatestNotifications(ctx, 10)), sched.ID); got != 1 {
				t.Fatalf("read by %d after mark all, want 1", got)
			}
		})
	}
}

func readBy(ns []models.Notification, id int64) int64 {
	for _, n := range ns {
		if n.ID == id {
			return n.ReadBy
		}
	}
	return -1
}

func ids(ns []models.Notification) []int64 {
	out := make([]int64, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}
