package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"beacon/app/models"
)

func ptr[T any](v T) *T { return &v }

// keyed posts through CreateOrReplaceNotification.
func keyed(t *testing.T, s *Store, key, title string, recipient *models.User) (models.Notification, bool) {
	t.Helper()
	n := models.Notification{Title: title, Level: "info", Key: ptr(key)}
	if recipient != nil {
		n.RecipientID = &recipient.ID
	}
	replaced, err := s.CreateOrReplaceNotification(context.Background(), &n)
	if err != nil {
		t.Fatal(err)
	}
	return n, replaced
}

func TestReplaceByKey(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			bob := user(t, s, "bob@example.com")
			first, replaced := keyed(t, s, "deploy", "Deploy started 0%", nil)
			if replaced || first.Position != first.ID || first.FirstPosition != first.ID {
				t.Fatalf("first post: replaced %v, %+v", replaced, first)
			}
			other := post(t, s, nil)
			second, replaced := keyed(t, s, "deploy", "Deploy finished 100%", nil)
			if !replaced || second.ID != first.ID || second.Position <= other || second.Title != "Deploy finished 100%" {
				t.Fatalf("replacement: replaced %v, %+v (first %+v)", replaced, second, first)
			}
			if second.FirstPosition != first.ID || !second.CreatedAt.Equal(first.CreatedAt) {
				t.Fatalf("a replacement keeps where and when it was first posted: %+v", second)
			}
			// Newest first: the replacement kept where it was first posted.
			ns, _ := s.RecentNotifications(ctx, 0, 10)
			if len(ns) != 2 || ns[1].Title != "Deploy finished 100%" {
				t.Fatalf("one card, in its new state: %+v", ns)
			}

			// The same key for another recipient is another notification.
			forBob, replaced := keyed(t, s, "deploy", "Bob's deploy", &bob)
			if replaced || forBob.ID == first.ID {
				t.Fatalf("bob's: replaced %v, id %d", replaced, forBob.ID)
			}
			again, replaced := keyed(t, s, "deploy", "Bob's deploy done", &bob)
			if !replaced || again.ID != forBob.ID {
				t.Fatalf("bob's again: replaced %v, id %d", replaced, again.ID)
			}

			dup := models.Notification{Title: "x", Level: "info", Key: ptr("deploy")}
			if err := insertOnly(ctx, s, &dup); !duplicate(err) {
				t.Fatalf("a second live row with the key: %v, want refused", err)
			}
			// Withdrawal frees the key.
			if _, err := s.WithdrawNotification(ctx, first.ID); err != nil {
				t.Fatal(err)
			}
			fresh, replaced := keyed(t, s, "deploy", "Next deploy", nil)
			if replaced || fresh.ID == first.ID {
				t.Fatalf("after withdrawal: replaced %v, id %d", replaced, fresh.ID)
			}
		})
	}
}

func TestEditAndWithdraw(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			a := user(t, s, "a@example.com")
			id := post(t, s, nil)
			later := post(t, s, nil)
			if err := s.MarkRead(ctx, a.ID, id); err != nil {
				t.Fatal(err)
			}
			wantUnread(t, s, a, NoLimit, 1)

			n, err := s.UpdateNotification(ctx, id, NotificationPatch{Title: ptr("edited"), Body: ptr("")})
			if err != nil {
				t.Fatal(err)
			}
			if n.ID != id || n.Title != "edited" || n.Level != "info" || n.Position <= later || n.FirstPosition != id {
				t.Fatalf("edited: %+v", n)
			}
			// Read state is by id: an edit leaves it read.
			wantUnread(t, s, a, NoLimit, 1)
			if read, _ := s.ReadNotificationIDs(ctx, a.ID, []int64{id}); !read[id] {
				t.Fatal("an edit made it unread")
			}
			same, err := s.UpdateNotification(ctx, id, NotificationPatch{})
			if err != nil || same.Position != n.Position {
				t.Fatalf("an empty patch moved it: %+v %v", same, err)
			}
			if _, err := s.UpdateNotification(ctx, id, NotificationPatch{DeliverAt: ptr(time.Now().Add(time.Hour))}); !errors.Is(err, ErrAlreadyDelivered) {
				t.Fatalf("rescheduling a delivered one: %v", err)
			}

			w, err := s.WithdrawNotification(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if !w.Withdrawn() || w.Position <= n.Position {
				t.Fatalf("withdrawn: %+v", w)
			}
			for _, err := range []error{
				func() error { _, err := s.WithdrawNotification(ctx, id); return err }(),
				func() error { _, err := s.WithdrawNotification(ctx, later+100); return err }(),
				func() error { _, err := s.UpdateNotification(ctx, id, NotificationPatch{Title: ptr("x")}); return err }(),
				s.MarkRead(ctx, a.ID, id),
			} {
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("on a withdrawn or missing one: %v, want ErrNotFound", err)
				}
			}
			// Gone from feeds, lists and counts; still on the admin list.
			wantUnread(t, s, a, NoLimit, 1) // later
			if err := s.MarkRead(ctx, a.ID, later); err != nil {
				t.Fatal(err)
			}
			wantUnread(t, s, a, NoLimit, 0)
			for _, ns := range [][]models.Notification{
				must(s.ChangesAfter(ctx, a.ID, 0, 10)),
				must(s.ChangesAfter(ctx, 0, 0, 10)),
				must(s.RecentNotifications(ctx, a.ID, 10)),
			} {
				if len(ns) != 1 || ns[0].ID != later {
					t.Fatalf("withdrawn one still listed: %+v", ns)
				}
			}
			admin := must(s.LatestNotifications(ctx, 10))
			if len(admin) != 2 || !admin[1].Withdrawn() || admin[1].Title != "edited" {
				t.Fatalf("admin list: %+v", admin)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// event is how a client at position after would receive a change: "" for
// a withdrawn one it never saw (a later page's cursor lets those through).
func event(n models.Notification, after int64) string {
	switch {
	case n.NewAfter(after) && n.Withdrawn():
		return ""
	case n.NewAfter(after):
		return "notification " + n.Title
	case n.Withdrawn():
		return "withdraw " + n.Title
	default:
		return "update " + n.Title
	}
}

func replay(t *testing.T, s *Store, userID, after int64, limit int) []string {
	t.Helper()
	var got []string
	last := after
	for {
		ns, err := s.ChangesAfter(context.Background(), userID, last, limit)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range ns {
			if n.Position <= last {
				t.Fatalf("position %d after %d: out of order", n.Position, last)
			}
			last = n.Position
			if e := event(n, after); e != "" {
				got = append(got, e)
			}
		}
		if len(ns) < limit {
			return got
		}
	}
}

func TestChangesAfter(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			alice, bob := user(t, s, "alice@example.com"), user(t, s, "bob@example.com")
			create := func(title string, to *models.User) int64 {
				n := models.Notification{Title: title, Level: "info"}
				if to != nil {
					n.RecipientID = &to.ID
				}
				if _, err := s.CreateOrReplaceNotification(ctx, &n); err != nil {
					t.Fatal(err)
				}
				return n.ID
			}
			edit := func(id int64, title string) {
				if _, err := s.UpdateNotification(ctx, id, NotificationPatch{Title: &title}); err != nil {
					t.Fatal(err)
				}
			}
			withdraw := func(id int64) {
				if _, err := s.WithdrawNotification(ctx, id); err != nil {
					t.Fatal(err)
				}
			}
			n1 := create("n1", nil)
			n2 := create("bob2", &bob)
			n3 := create("n3", nil)
			seen := n3 // a client that had everything so far
			edit(n1, "n1b")
			edit(n2, "bob2b")
			edit(n1, "n1c")
			withdraw(n3)
			n4 := create("n4", nil)
			withdraw(n4)
			create("n5", nil)
			create("alice6", &alice)

			for _, limit := range []int{100, 1} {
				cases := []struct {
					user        int64
					after       int64
					want        []string
					description string
				}{
					{0, 0, []string{"notification n1c", "notification n5"}, "visitor from the start"},
					{bob.ID, 0, []string{"notification bob2b", "notification n1c", "notification n5"}, "bob from the start"},
					{0, seen, []string{"update n1c", "withdraw n3", "notification n5"}, "visitor who had n1..n3"},
					{bob.ID, seen, []string{"update bob2b", "update n1c", "withdraw n3", "notification n5"}, "bob who had n1..n3"},
					{alice.ID, seen, []string{"update n1c", "withdraw n3", "notification n5", "notification alice6"}, "alice who had n1..n3"},
				}
				for _, c := range cases {
					if got := replay(t, s, c.user, c.after, limit); !slices.Equal(got, c.want) {
						t.Errorf("%s (limit %d): got %q, want %q", c.description, limit, got, c.want)
					}
				}
			}
			// The hub's view: every recipient's, with n4, posted and
			// withdrawn since, kept for the streams that replayed it.
			all, err := s.AllChangesAndWithdrawalsAfter(ctx, seen, 100)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, n := range all {
				got = append(got, event(n, seen))
			}
			if want := []string{"update bob2b", "update n1c", "withdraw n3", "", "notification n5", "notification alice6"}; !slices.Equal(got, want) {
				t.Fatalf("all changes after %d: %q, want %q (\"\": n4, withdrawn)", seen, got, want)
			}
			last, _ := s.LastPosition(ctx)
			if all[len(all)-1].Position != last {
				t.Fatalf("last position %d, newest change at %d", last, all[len(all)-1].Position)
			}
			if vis, _ := s.LastVisiblePosition(ctx, bob.ID); vis != all[len(all)-2].Position {
				t.Fatalf("bob's last visible position %d, want n5's %d", vis, all[len(all)-2].Position)
			}

			// A replay reads n4's withdrawal, leaves it out, and counts it:
			// the stream's live events go on after it, not from n3.
			r, err := s.ReplayAfter(ctx, 0, seen, 3)
			if err != nil {
				t.Fatal(err)
			}
			got = nil
			for _, n := range r.Changes {
				got = append(got, event(n, seen))
			}
			if want := []string{"update n1c", "withdraw n3"}; !slices.Equal(got, want) || r.Through != all[3].Position || !r.More {
				t.Fatalf("visitor's replay of 3 after %d: %q through %d (more %v), want %q through n4's withdrawal at %d, more",
					seen, got, r.Through, r.More, want, all[3].Position)
			}
			if r, err = s.ReplayAfter(ctx, 0, seen, 4); err != nil || r.More || r.Through != all[4].Position || len(r.Changes) != 3 {
				t.Fatalf("visitor's replay of 4 after %d: %d changes through %d (more %v, %v), want 3 through n5's %d, no more",
					seen, len(r.Changes), r.Through, r.More, err, all[4].Position)
			}
		})
	}
}
