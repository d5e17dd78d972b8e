package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"beacon/app/models"
)

// Marking unread works on both sides of the "mark all" watermark, and
// every count that reads read state follows it.
func TestMarkUnread(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			a, b := user(t, s, "a@example.com"), user(t, s, "b@example.com")
			below, forB := post(t, s, nil), post(t, s, &b)
			if err := s.MarkAllRead(ctx, a.ID, NoLimit); err != nil {
				t.Fatal(err)
			}
			above := post(t, s, nil)
			must0(t, s.MarkRead(ctx, a.ID, above))
			wantUnread(t, s, a, NoLimit, 0)

			for range 2 { // twice: idempotent
				must0(t, s.MarkUnread(ctx, a.ID, below)) // covered by the watermark
				must0(t, s.MarkUnread(ctx, a.ID, above)) // a single read
			}
			wantUnread(t, s, a, NoLimit, 2)
			wantUnread(t, s, a, below, 1) // a stream's count through a position
			read := must(s.ReadNotificationIDs(ctx, a.ID, []int64{below, above}))
			if read[below] || read[above] {
				t.Fatalf("read state after marking both unread: %v", read)
			}
			readBy := func(id int64) int64 {
				for _, n := range must(s.LatestNotifications(ctx, 10)) {
					if n.ID == id {
						return n.ReadBy
					}
				}
				t.Fatalf("notification %d not listed", id)
				return 0
			}
			if got := readBy(below); got != 0 {
				t.Errorf("read by after a marked it unread: %d", got)
			}
			if err := s.MarkUnread(ctx, a.ID, forB); !errors.Is(err, ErrNotFound) {
				t.Errorf("marking b's unread: %v, want ErrNotFound", err)
			}
			if err := s.MarkUnread(ctx, a.ID, above+100); !errors.Is(err, ErrNotFound) {
				t.Errorf("marking a missing one unread: %v, want ErrNotFound", err)
			}

			must0(t, s.MarkRead(ctx, a.ID, below)) // the exception goes
			wantUnread(t, s, a, NoLimit, 1)
			must0(t, s.MarkUnread(ctx, a.ID, below))
			// "Mark all" again reads both, the exception below the old
			// watermark included.
			must0(t, s.MarkAllRead(ctx, a.ID, NoLimit))
			wantUnread(t, s, a, NoLimit, 0)
			if got := readBy(below); got != 1 {
				t.Errorf("read by after mark all: %d, want 1", got)
			}
			var left int64
			s.db.Model(&models.NotificationUnread{}).Where("user_id = ?", a.ID).Count(&left)
			if left != 0 {
				t.Errorf("%d unread marks left after mark all", left)
			}
		})
	}
}

// Each change of a user's read or archive state is numbered 1, 2, 3 …
// and kept, once; what changes nothing is not recorded.
func TestStateChangesAreNumberedPerUser(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			a, b := user(t, s, "a@example.com"), user(t, s, "b@example.com")
			n1, n2 := post(t, s, nil), post(t, s, nil)
			must0(t, s.MarkRead(ctx, a.ID, n1))
			must0(t, s.MarkRead(ctx, a.ID, n1)) // no change
			must0(t, s.SetArchived(ctx, a.ID, n2, true))
			must0(t, s.SetArchived(ctx, a.ID, n2, true)) // no change
			must0(t, s.MarkUnread(ctx, a.ID, n1))
			must0(t, s.MarkUnread(ctx, a.ID, n2)) // was never read: no change
			must0(t, s.MarkAllRead(ctx, a.ID, n2))
			must0(t, s.MarkAllRead(ctx, a.ID, n2)) // no change
			must0(t, s.SetArchived(ctx, a.ID, n2, false))
			must0(t, s.MarkRead(ctx, b.ID, n2))

			type change struct {
				seq   int64
				kind  string
				id    int64
				value bool
				thr   int64
			}
			want := []change{
				{1, models.StateRead, n1, true, 0},
				{2, models.StateArchived, n2, true, 0},
				{3, models.StateRead, n1, false, 0},
				{4, models.StateAllRead, 0, true, n2},
				{5, models.StateArchived, n2, false, 0},
			}
			cs, newest, err := s.StateChangesAfter(ctx, a.ID, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			if newest != 5 || len(cs) != len(want) {
				t.Fatalf("a's changes: newest %d, %+v", newest, cs)
			}
			for i, c := range cs {
				if got := (change{c.Seq, c.Kind, c.NotificationID, c.Value, c.Through}); got != want[i] {
					t.Errorf("change %d: %+v, want %+v", i, got, want[i])
				}
			}
			cs, newest = must2(s.StateChangesAfter(ctx, a.ID, 3, 1))
			if newest != 5 || len(cs) != 1 || cs[0].Seq != 4 {
				t.Errorf("after 3, at most 1: newest %d, %+v", newest, cs)
			}
			cs, newest = must2(s.StateChangesAfter(ctx, b.ID, 0, 100))
			if newest != 1 || len(cs) != 1 || cs[0].NotificationID != n2 {
				t.Errorf("b's changes: newest %d, %+v", newest, cs)
			}
			if _, _, err := s.StateChangesAfter(ctx, b.ID+100, 0, 100); !errors.Is(err, ErrNotFound) {
				t.Errorf("a missing user's changes: %v, want ErrNotFound", err)
			}

			// Pruned changes are missing from the count: a reader asking
			// from before them can tell.
			if n := must(s.PruneStateChangesBefore(ctx, time.Now().Add(time.Minute))); n != 6 {
				t.Errorf("pruned %d, want 6", n)
			}
			cs, newest = must2(s.StateChangesAfter(ctx, a.ID, 2, 100))
			if newest != 5 || len(cs) != 0 {
				t.Errorf("after pruning: newest %d, %+v", newest, cs)
			}
			must0(t, s.MarkUnread(ctx, a.ID, n1)) // numbering goes on
			if seq := must(s.StateSeq(ctx, a.ID)); seq != 6 {
				t.Errorf("state number after pruning and one more: %d, want 6", seq)
			}
		})
	}
}

// Concurrent changes of one user's state commit in the order of their
// numbers: a reader never finds a number missing that appears later.
func TestStateChangesCommitInOrder(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			a := user(t, s, "a@example.com")
			var ids []int64
			for range 8 {
				ids = append(ids, post(t, s, nil))
			}
			const rounds = 15
			var wg sync.WaitGroup
			for _, id := range ids {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range rounds {
						var err error
						switch i % 3 {
						case 0:
							err = s.MarkRead(ctx, a.ID, id)
						case 1:
							err = s.SetArchived(ctx, a.ID, id, i%2 == 0)
						default:
							err = s.MarkUnread(ctx, a.ID, id)
						}
						if err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			var after int64
			for finished := false; !finished; {
				select {
				case <-done:
					finished = true
				default:
				}
				cs, newest, err := s.StateChangesAfter(ctx, a.ID, after, 10000)
				if err != nil {
					t.Fatal(err)
				}
				if int64(len(cs)) != newest-after {
					t.Fatalf("after %d: %d changes up to %d", after, len(cs), newest)
				}
				for i, c := range cs {
					if c.Seq != after+int64(i)+1 {
						t.Fatalf("change %d numbered %d after %d", i, c.Seq, after)
					}
				}
				after = newest
			}
			if after == 0 {
				t.Fatal("no changes read")
			}
		})
	}
}

func must0(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

// NotificationStates tells read and archived apart in one query, the
// watermark and its exceptions included.
func TestNotificationStates(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			a := user(t, s, "a@example.com")
			below, exception, above, archived, plain := post(t, s, nil), post(t, s, nil), post(t, s, nil), post(t, s, nil), post(t, s, nil)
			must0(t, s.MarkAllRead(ctx, a.ID, exception))
			must0(t, s.MarkUnread(ctx, a.ID, exception))
			must0(t, s.MarkRead(ctx, a.ID, above))
			must0(t, s.SetArchived(ctx, a.ID, archived, true))
			read, arch, err := s.NotificationStates(ctx, a.ID, []int64{below, exception, above, archived, plain})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(read) != fmt.Sprint([]int64{below, above}) || fmt.Sprint(arch) != fmt.Sprint([]int64{archived}) {
				t.Errorf("read %v, archived %v; want [%d %d] and [%d]", read, arch, below, above, archived)
			}
		})
	}
}
