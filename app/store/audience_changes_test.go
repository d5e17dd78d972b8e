package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"beacon/app/models"
)

// An edit's new audience, as every reader of the store tells it: the list
// (each once, a loss as withdrawn), a stream's replay (each event where it
// happened), and the newest position a user's stream may resume from.
func TestReaddressedNotificationAsEachReaderTellsIt(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			ann, bob := user(t, s, "ann@example.com"), user(t, s, "bob@example.com")
			if _, err := s.CreateGroup(ctx, "ops", false); err != nil {
				t.Fatal(err)
			}
			must(s.AddGroupMembers(ctx, "ops", []string{"ann@example.com"}))
			n := models.Notification{Title: "deploy", Level: "info"}
			must(s.Address(ctx, []string{"group:ops"})).Apply(&n)
			must(s.CreateOrReplaceNotification(ctx, &n))
			posted := n.Position
			toBob := must(s.Address(ctx, []string{"bob@example.com"}))
			title := "deploy v2"
			moved := must(s.UpdateNotification(ctx, n.ID, NotificationPatch{Title: &title, To: &toBob}))
			if moved.AudiencePosition != moved.Position || moved.RecipientID == nil || *moved.RecipientID != bob.ID {
				t.Fatalf("readdressed: %+v, want to bob, its audience changed at its position", moved)
			}
			tell := func(ns []models.Notification) string {
				var out []string
				for _, n := range ns {
					switch {
					case n.Withdrawn():
						out = append(out, fmt.Sprintf("withdrawn at %d", n.Position))
					case n.NewAfter(posted):
						out = append(out, fmt.Sprintf("%s new at %d", n.Title, n.FirstPosition))
					default:
						out = append(out, fmt.Sprintf("%s at %d", n.Title, n.Position))
					}
				}
				return strings.Join(out, ", ")
			}
			for _, c := range []struct {
				who          models.User
				list, replay string
				through      int64 // how far the replay read
			}{
				{ann, fmt.Sprintf("withdrawn at %d", moved.Position), fmt.Sprintf("withdrawn at %d", moved.Position), moved.Position},
				{bob, fmt.Sprintf("deploy v2 at %d", moved.Position), fmt.Sprintf("deploy v2 new at %d", moved.Position), moved.Position},
				{models.User{Email: "a visitor"}, "", "", 0},
			} {
				page := must(s.ListAfter(ctx, c.who.ID, posted, 10))
				if got := tell(page.Changes); got != c.list {
					t.Errorf("list for %s after %d: %q, want %q", c.who.Email, posted, got, c.list)
				}
				r := must(s.ReplayAfter(ctx, c.who.ID, posted, 10))
				if got := tell(r.Changes); got != c.replay || r.Through != c.through {
					t.Errorf("replay for %s after %d: %q through %d, want %q through %d", c.who.Email, posted, got, r.Through, c.replay, c.through)
				}
			}
			// From before the post, ann never had it: nothing; bob, new.
			if got := must(s.ListAfter(ctx, ann.ID, 0, 10)); len(got.Changes) != 0 {
				t.Errorf("list for ann from 0: %q, want nothing", tell(got.Changes))
			}
			// ann's stream sent her the loss: a cursor there is hers.
			if last := must(s.LastVisiblePosition(ctx, ann.ID)); last < moved.Position {
				t.Errorf("last visible position for ann: %d, want at least %d, where she lost it", last, moved.Position)
			}

			// A key names one live notification per audience.
			key := "build"
			k1 := models.Notification{Title: "build", Level: "info", Key: &key}
			must(s.CreateOrReplaceNotification(ctx, &k1))
			k2 := models.Notification{Title: "build", Level: "info", Key: &key, RecipientID: &bob.ID}
			must(s.CreateOrReplaceNotification(ctx, &k2))
			everyone := Addressed{}
			if _, err := s.UpdateNotification(ctx, k2.ID, NotificationPatch{To: &everyone}); !errors.Is(err, ErrKeyTaken) {
				t.Errorf("readdressing onto a taken key: %v, want ErrKeyTaken", err)
			}
			if got := must(s.NotificationByID(ctx, k2.ID)); got.AudiencePosition != 0 || got.Position != k2.Position {
				t.Errorf("after a refused readdress: %+v, want it unchanged", got)
			}
		})
	}
}

// The unread count counts what the user sees now: a read of one they no
// longer see (they left its group, or it was readdressed away from them)
// takes nothing off.
func TestUnreadCountLeavesOutReadsOfWhatTheUserNoLongerSees(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			ann, bob := user(t, s, "ann@example.com"), user(t, s, "bob@example.com")
			if _, err := s.CreateGroup(ctx, "ops", false); err != nil {
				t.Fatal(err)
			}
			must(s.AddGroupMembers(ctx, "ops", []string{"ann@example.com"}))
			toOps := models.Notification{Title: "ops", Level: "info"}
			must(s.Address(ctx, []string{"group:ops"})).Apply(&toOps)
			must(s.CreateOrReplaceNotification(ctx, &toOps))
			all := post(t, s, nil)
			for _, id := range []int64{toOps.ID, all} {
				if err := s.MarkRead(ctx, ann.ID, id); err != nil {
					t.Fatal(err)
				}
			}
			post(t, s, nil)
			wantUnread(t, s, ann, NoLimit, 1)
			must(s.RemoveGroupMembers(ctx, "ops", []string{"ann@example.com"}))
			wantUnread(t, s, ann, NoLimit, 1)
			toBob := must(s.Address(ctx, []string{"bob@example.com"}))
			must(s.UpdateNotification(ctx, all, NotificationPatch{To: &toBob}))
			wantUnread(t, s, ann, NoLimit, 1)
			wantUnread(t, s, bob, NoLimit, 2)
			// Given back, it is read again: her read stayed.
			everyone := Addressed{}
			must(s.UpdateNotification(ctx, all, NotificationPatch{To: &everyone}))
			wantUnread(t, s, ann, NoLimit, 1)
		})
	}
}

// A list page that takes more than one query (the first read ones the
// visitor never had and does not see now, and left them out) reads them in
// one snapshot. Else x, read live by the first query and withdrawn before
// the next, which by then leaves it out (withdrawn, new to the cursor),
// stood in the page as it was, though the page goes past its withdrawal:
// the client, resuming from the page's end, kept it for good. x is
// withdrawn after the first query the list runs, or after the second (the
// first in the snapshot: the snapshot's next must not see it).
func TestListPageTakingMoreQueriesReadsOneSnapshot(t *testing.T) {
	for name, s := range OpenTestDatabases(t) {
		if _, err := s.CreateGroup(context.Background(), "ops", false); err != nil {
			t.Fatal(err)
		}
		for _, after := range []int32{1, 2} {
			t.Run(fmt.Sprintf("%s/withdrawn after query %d", name, after), func(t *testing.T) {
				testListPageSnapshot(t, s, after)
			})
		}
	}
}

func testListPageSnapshot(t *testing.T, s *Store, step int32) {
	ctx := context.Background()
	toOps := must(s.Address(ctx, []string{"group:ops"}))
	post := func(title string) models.Notification {
		n := models.Notification{Title: title, Level: "info"}
		must(s.CreateOrReplaceNotification(ctx, &n))
		return n
	}
	start := must(s.LastPosition(ctx))
	x := post("x")
	for _, title := range []string{"y1", "y2"} { // lost to visitors
		must(s.UpdateNotification(ctx, post(title).ID, NotificationPatch{To: &toOps}))
	}
	w := post("w")
	var queries atomic.Int32
	var withdrawn atomic.Int64
	s.AfterQuery(t, func(table string) {
		if table == "notifications" && queries.Add(1) == step {
			withdrawn.Store(must(s.WithdrawNotification(ctx, x.ID)).Position)
			post("v")
		}
	})
	page := must(s.ListAfter(ctx, 0, start, 3))
	var got []string
	for _, n := range page.Changes {
		got = append(got, n.Title)
	}
	want := "w v"
	if page.Through < withdrawn.Load() {
		want = "x w" // the page ends before the withdrawal: the next tells it
	}
	if withdrawn.Load() == 0 || page.Through < w.Position {
		t.Fatalf("the page %q ends at %d, x withdrawn at %d: the case is not made", got, page.Through, withdrawn.Load())
	}
	if strings.Join(got, " ") != want {
		t.Errorf("a visitor's list through %d: %q, want %s (x withdrawn at %d)", page.Through, got, want, withdrawn.Load())
	}
}
