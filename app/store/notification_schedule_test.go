package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"beacon/app/models"
)

func TestScheduledInvisibleUntilDueThenDeliveredOnce(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			a := user(t, s, "a@example.com")
			due := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
			sched := models.Notification{Title: "later", Level: "info", DeliverAt: &due}
			if _, err := s.CreateOrReplaceNotification(ctx, &sched); err != nil {
				t.Fatal(err)
			}
			if !sched.Scheduled || sched.FirstPosition != 0 {
				t.Fatalf("scheduled: %+v", sched)
			}
			past := time.Now().Add(-time.Minute)
			now := models.Notification{Title: "past is now", Level: "info", DeliverAt: &past}
			if _, err := s.CreateOrReplaceNotification(ctx, &now); err != nil {
				t.Fatal(err)
			}
			if now.Scheduled || now.FirstPosition != now.ID {
				t.Fatalf("a past deliver_at delivers at once: %+v", now)
			}
			seen := now.Position // a client that has everything visible so far

			// Until due: nobody but the admin list sees it.
			wantUnread(t, s, a, NoLimit, 1)
			if err := s.MarkRead(ctx, a.ID, sched.ID); !errors.Is(err, ErrNotFound) {
				t.Fatalf("marking a scheduled one read: %v", err)
			}
			for _, ns := range [][]models.Notification{
				must(s.RecentNotifications(ctx, a.ID, 10)),
				must(s.RecentNotifications(ctx, 0, 10)),
				must(s.ChangesAfter(ctx, a.ID, 0, 10)),
				must(s.AllChangesAndWithdrawalsAfter(ctx, 0, 10)),
			} {
				if len(ns) != 1 || ns[0].ID != now.ID {
					t.Fatalf("scheduled one visible: %+v", ns)
				}
			}
			if admin := must(s.LatestNotifications(ctx, 10)); len(admin) != 2 || !admin[1].Scheduled || !admin[1].DeliverAt.Equal(due) {
				t.Fatalf("admin list: %+v", admin)
			}
			if next, err := s.NextDue(ctx); err != nil || !next.Equal(due) {
				t.Fatalf("next due %v %v, want %v", next, err, due)
			}
			if n, next, err := s.DeliverDue(ctx, time.Now()); err != nil || n != 0 || !next.Equal(due) {
				t.Fatalf("deliver before due: %d %v %v", n, next, err)
			}
			// Edits while scheduled keep it hidden; rescheduling moves it.
			due = due.Add(time.Minute)
			if _, err := s.UpdateNotification(ctx, sched.ID, NotificationPatch{Title: ptr("later, edited"), DeliverAt: &due}); err != nil {
				t.Fatal(err)
			}
			if ns := must(s.ChangesAfter(ctx, a.ID, seen, 10)); len(ns) != 0 {
				t.Fatalf("an edit to a scheduled one showed: %+v", ns)
			}

			// Two instances deliver at the same moment: it goes live once.
			var (
				wg    sync.WaitGroup
				mu    sync.Mutex
				total int
			)
			for range 4 {
				wg.Go(func() {
					n, next, err := s.DeliverDue(ctx, due)
					if err != nil || !next.IsZero() {
						t.Errorf("deliver: %v, next %v", err, next)
					}
					mu.Lock()
					total += n
					mu.Unlock()
				})
			}
			wg.Wait()
			if total != 1 {
				t.Fatalf("delivered %d times, want once", total)
			}
			// Posted before the client's position, delivered after it: new to it.
			ns := must(s.ChangesAfter(ctx, a.ID, seen, 10))
			if len(ns) != 1 || ns[0].ID != sched.ID || ns[0].ID >= seen || !ns[0].NewAfter(seen) || ns[0].Title != "later, edited" {
				t.Fatalf("after delivery: %+v", ns)
			}
			wantUnread(t, s, a, NoLimit, 2)
			if _, err := s.UpdateNotification(ctx, sched.ID, NotificationPatch{DeliverAt: &due}); !errors.Is(err, ErrAlreadyDelivered) {
				t.Fatalf("rescheduling after delivery: %v", err)
			}

			// Cancelling a scheduled one: it never shows.
			cancel := models.Notification{Title: "cancelled", Level: "info", DeliverAt: &due}
			if _, err := s.CreateOrReplaceNotification(ctx, &cancel); err != nil {
				t.Fatal(err)
			}
			last := must(s.LastPosition(ctx))
			if _, err := s.WithdrawNotification(ctx, cancel.ID); err != nil {
				t.Fatal(err)
			}
			if n, _, err := s.DeliverDue(ctx, due.Add(time.Hour)); err != nil || n != 0 {
				t.Fatalf("delivered a cancelled one: %d %v", n, err)
			}
			if ns := must(s.ChangesAfter(ctx, a.ID, seen, 10)); len(ns) != 1 {
				t.Fatalf("a cancelled one showed: %+v", ns)
			}
			if vis := must(s.LastVisiblePosition(ctx, a.ID)); vis >= last {
				t.Fatalf("last visible position %d counts a cancelled schedule (%d)", vis, last)
			}
		})
	}
}

func TestReplaceScheduled(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			due := time.Now().Add(time.Hour)
			n := models.Notification{Title: "v1", Level: "info", Key: ptr("k"), DeliverAt: &due}
			if _, err := s.CreateOrReplaceNotification(ctx, &n); err != nil || !n.Scheduled {
				t.Fatalf("%+v %v", n, err)
			}
			// Replacing it with a live post delivers it now, as new.
			m := models.Notification{Title: "v2", Level: "info", Key: ptr("k")}
			replaced, err := s.CreateOrReplaceNotification(ctx, &m)
			if err != nil || !replaced || m.ID != n.ID || m.Scheduled || m.FirstPosition != m.Position || m.DeliverAt != nil {
				t.Fatalf("replaced %v: %+v %v", replaced, m, err)
			}
			// Rescheduling to a time gone by delivers it now.
			o := models.Notification{Title: "other", Level: "info", DeliverAt: &due}
			if _, err := s.CreateOrReplaceNotification(ctx, &o); err != nil {
				t.Fatal(err)
			}
			past := time.Now().Add(-time.Second)
			o, err = s.UpdateNotification(ctx, o.ID, NotificationPatch{DeliverAt: &past})
			if err != nil || o.Scheduled || o.FirstPosition != o.Position || o.Position <= m.Position {
				t.Fatalf("rescheduled to the past: %+v %v", o, err)
			}
			// A delivered one cannot go back to scheduled.
			again := models.Notification{Title: "v3", Level: "info", Key: ptr("k"), DeliverAt: &due}
			if _, err := s.CreateOrReplaceNotification(ctx, &again); !errors.Is(err, ErrAlreadyDelivered) {
				t.Fatalf("rescheduling by key: %v", err)
			}
		})
	}
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			a := user(t, s, "a@example.com")
			old := time.Now().Add(-2 * time.Hour)
			var ids []int64
			for range 3 {
				n := models.Notification{Title: "old", Level: "info", CreatedAt: old}
				if _, err := s.CreateOrReplaceNotification(ctx, &n); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, n.ID)
			}
			if err := s.MarkRead(ctx, a.ID, ids[0]); err != nil {
				t.Fatal(err)
			}
			edited, err := s.UpdateNotification(ctx, ids[1], NotificationPatch{Title: ptr("old, edited")})
			if err != nil {
				t.Fatal(err)
			}
			keep := post(t, s, nil)
			if p := must(s.PrunedThrough(ctx)); p != 0 {
				t.Fatalf("pruned through %d before any prune", p)
			}

			// Several instances at once: each row is deleted once.
			var (
				wg     sync.WaitGroup
				mu     sync.Mutex
				pruned int64
			)
			for range 3 {
				wg.Go(func() {
					n, err := s.PruneNotificationsBefore(ctx, time.Now().Add(-time.Hour))
					if err != nil {
						t.Error(err)
					}
					mu.Lock()
					pruned += n
					mu.Unlock()
				})
			}
			wg.Wait()
			if pruned != 3 {
				t.Fatalf("pruned %d, want 3", pruned)
			}
			if p := must(s.PrunedThrough(ctx)); p != edited.Position {
				t.Fatalf("pruned through %d, want the edited one's position %d", p, edited.Position)
			}
			if ns := must(s.LatestNotifications(ctx, 10)); len(ns) != 1 || ns[0].ID != keep {
				t.Fatalf("left: %+v", ns)
			}
			var reads int64
			s.db.Model(&models.NotificationRead{}).Count(&reads)
			if reads != 0 {
				t.Fatalf("%d reads of pruned notifications left", reads)
			}
			wantUnread(t, s, a, NoLimit, 1)
			// A new post never reuses a pruned id.
			if next := post(t, s, nil); next <= edited.Position {
				t.Fatalf("new id %d after pruning through %d", next, edited.Position)
			}
		})
	}
}
