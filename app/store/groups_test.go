package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"beacon/app/models"
)

// changedUsers is the user ids of the membership changes after id after.
func changedUsers(t *testing.T, s *Store, after int64) []int64 {
	t.Helper()
	cs := must(s.GroupChangesAfter(context.Background(), after, 1000))
	var ids []int64
	for _, c := range cs {
		ids = append(ids, c.UserID)
	}
	return ids
}

// unknown checks that err is an *UnknownError of kind naming names, and
// an ErrNotFound.
func unknown(t *testing.T, err error, kind string, names ...string) {
	t.Helper()
	var u *UnknownError
	if !errors.As(err, &u) || u.Kind != kind || !slices.Equal(u.Names, names) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v, want unknown %s %v", err, kind, names)
	}
}

func TestGroupsCreateListAndDelete(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			a, b := user(t, s, "a@example.com"), user(t, s, "b@example.com")
			ops := must(s.CreateGroup(ctx, "ops", false))
			must(s.CreateGroup(ctx, "deploys", true))
			if ops.ID == 0 || ops.Open || ops.CreatedAt.IsZero() {
				t.Fatalf("created %+v", ops)
			}
			if _, err := s.CreateGroup(ctx, "ops", true); !errors.Is(err, ErrGroupTaken) {
				t.Fatalf("a taken name: %v", err)
			}
			for _, bad := range []string{"", "Ops", "on call", "x/y", "ünï", string(make([]byte, 41))} {
				if _, err := s.CreateGroup(ctx, bad, false); !errors.Is(err, ErrBadGroupName) {
					t.Errorf("name %q: %v", bad, err)
				}
			}
			if got := must(s.AddGroupMembers(ctx, "ops", []string{"a@example.com", "B@Example.com"})); !slices.Equal(got, []int64{a.ID, b.ID}) {
				t.Fatalf("added %v", got)
			}
			gs := must(s.Groups(ctx))
			if len(gs) != 2 || gs[0].Name != "deploys" || gs[0].Members != 0 || !gs[0].Open || gs[1].Name != "ops" || gs[1].Members != 2 {
				t.Fatalf("groups %+v", gs)
			}
			if g := must(s.GroupByName(ctx, "ops")); g.ID != ops.ID || g.Members != 2 || g.Open {
				t.Fatalf("ops by name: %+v", g)
			}
			_, err := s.GroupByName(ctx, "nope")
			unknown(t, err, "group", "nope")
			members := must(s.GroupMembers(ctx))
			if got := members[ops.ID]; len(got) != 2 || got[0].Email != "a@example.com" || got[1].Email != "b@example.com" || got[0].ID != a.ID {
				t.Fatalf("members %+v", members)
			}

			last := must(s.LastGroupChange(ctx))
			if got := must(s.DeleteGroup(ctx, "ops")); !slices.Equal(got, []int64{a.ID, b.ID}) {
				t.Fatalf("delete returned members %v", got)
			}
			if got := changedUsers(t, s, last); !slices.Equal(got, []int64{a.ID, b.ID}) {
				t.Fatalf("delete logged changes of %v", got)
			}
			if ids := must(s.GroupIDsOf(ctx, a.ID)); len(ids) != 0 {
				t.Fatalf("a is still in %v", ids)
			}
			_, err = s.DeleteGroup(ctx, "ops")
			unknown(t, err, "group", "ops")
			// An empty group goes without a change.
			last = must(s.LastGroupChange(ctx))
			if got := must(s.DeleteGroup(ctx, "deploys")); len(got) != 0 || len(changedUsers(t, s, last)) != 0 {
				t.Fatalf("deleting an empty group: members %v", got)
			}
			// Its name may be used again.
			must(s.CreateGroup(ctx, "ops", true))
		})
	}
}

// A membership change naming an unknown group or email changes nothing
// and names what is unknown; one that changes nobody logs nothing.
func TestGroupMembersAllOrNothing(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			a, b := user(t, s, "a@example.com"), user(t, s, "b@example.com")
			must(s.CreateGroup(ctx, "ops", false))
			start := must(s.LastGroupChange(ctx))

			_, err := s.AddGroupMembers(ctx, "ops", []string{"a@example.com", "nobody@example.com", " Ghost@example.com ", "nobody@example.com"})
			unknown(t, err, "user", "nobody@example.com", "Ghost@example.com")
			_, err = s.AddGroupMembers(ctx, "nope", []string{"a@example.com"})
			unknown(t, err, "group", "nope")
			_, err = s.RemoveGroupMembers(ctx, "ops", []string{"nobody@example.com"})
			unknown(t, err, "user", "nobody@example.com")
			if ids := must(s.GroupIDsOf(ctx, a.ID)); len(ids) != 0 {
				t.Fatalf("a refused change added a to %v", ids)
			}
			if got := changedUsers(t, s, start); len(got) != 0 {
				t.Fatalf("refused changes logged %v", got)
			}

			if got := must(s.AddGroupMembers(ctx, "ops", []string{"A@example.com", "a@example.com"})); !slices.Equal(got, []int64{a.ID}) {
				t.Fatalf("added %v", got)
			}
			if got := must(s.AddGroupMembers(ctx, "ops", []string{"a@example.com", "b@example.com"})); !slices.Equal(got, []int64{b.ID}) {
				t.Fatalf("adding a member again: added %v", got)
			}
			if got := must(s.RemoveGroupMembers(ctx, "ops", []string{"a@example.com"})); !slices.Equal(got, []int64{a.ID}) {
				t.Fatalf("removed %v", got)
			}
			if got := must(s.RemoveGroupMembers(ctx, "ops", []string{"a@example.com"})); len(got) != 0 {
				t.Fatalf("removing a non-member: removed %v", got)
			}
			if got := changedUsers(t, s, start); !slices.Equal(got, []int64{a.ID, b.ID, a.ID}) {
				t.Fatalf("changes logged for %v, want a, b, a", got)
			}
		})
	}
}

// Users follow and leave open groups only; a closed or unknown one is
// ErrNotFound and changes nothing.
func TestFollowAndLeaveOpenGroups(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			a := user(t, s, "a@example.com")
			deploys := must(s.CreateGroup(ctx, "deploys", true))
			incidents := must(s.CreateGroup(ctx, "incidents", true))
			must(s.CreateGroup(ctx, "ops", false))
			start := must(s.LastGroupChange(ctx))

			for _, g := range []string{"ops", "nope"} {
				if err := s.FollowGroup(ctx, a.ID, g); !errors.Is(err, ErrNotFound) {
					t.Fatalf("follow %s: %v", g, err)
				}
				if err := s.LeaveGroup(ctx, a.ID, g); !errors.Is(err, ErrNotFound) {
					t.Fatalf("leave %s: %v", g, err)
				}
			}
			if len(changedUsers(t, s, start)) != 0 || len(must(s.GroupIDsOf(ctx, a.ID))) != 0 {
				t.Fatal("a refused follow changed something")
			}

			for range 2 {
				if err := s.FollowGroup(ctx, a.ID, "incidents"); err != nil {
					t.Fatal(err)
				}
				if err := s.FollowGroup(ctx, a.ID, "deploys"); err != nil {
					t.Fatal(err)
				}
			}
			if ids := must(s.GroupIDsOf(ctx, a.ID)); !slices.Equal(ids, []int64{deploys.ID, incidents.ID}) {
				t.Fatalf("a's groups %v, want ascending ids", ids)
			}
			topics := must(s.OpenGroups(ctx, a.ID))
			if len(topics) != 2 || topics[0].Name != "deploys" || !topics[0].Following || !topics[1].Following {
				t.Fatalf("topics %+v", topics)
			}
			if err := s.LeaveGroup(ctx, a.ID, "deploys"); err != nil {
				t.Fatal(err)
			}
			if err := s.LeaveGroup(ctx, a.ID, "deploys"); err != nil {
				t.Fatal(err)
			}
			topics = must(s.OpenGroups(ctx, a.ID))
			if len(topics) != 2 || topics[0].Following || !topics[1].Following || topics[1].ID != incidents.ID {
				t.Fatalf("after leaving deploys: %+v", topics)
			}
			if got := changedUsers(t, s, start); !slices.Equal(got, []int64{a.ID, a.ID, a.ID}) {
				t.Fatalf("changes %v: one per follow or leave that changed something", got)
			}
		})
	}
}

func TestGroupsByNameReportsUnknownNames(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			ops := must(s.CreateGroup(ctx, "ops", false))
			dev := must(s.CreateGroup(ctx, "dev", true))
			gs := must(s.GroupsByName(ctx, []string{"ops", "dev", "ops"}))
			if len(gs) != 2 || gs[0].ID != ops.ID || gs[1].ID != dev.ID {
				t.Fatalf("groups %+v, want ops, dev", gs)
			}
			gs, err := s.GroupsByName(ctx, []string{"x", "dev", "y"})
			unknown(t, err, "group", "x", "y")
			if len(gs) != 1 || gs[0].ID != dev.ID {
				t.Fatalf("found beside the unknown: %+v", gs)
			}
			if ids := must(s.GroupIDsOf(ctx, 0)); len(ids) != 0 {
				t.Fatalf("a visitor is in %v", ids)
			}
		})
	}
}

// The change log reads in id order after a cursor, and pruning deletes
// what is older than its time, however many rows.
func TestGroupChangesReadAndPrune(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			if last := must(s.LastGroupChange(ctx)); last != 0 {
				t.Fatalf("empty log's last change %d", last)
			}
			must(s.CreateGroup(ctx, "big", false))
			var emails []string
			for i := range groupChangesPruneBatch + 5 {
				emails = append(emails, fmt.Sprintf("u%d@example.com", i))
			}
			var users []models.User
			for _, e := range emails {
				users = append(users, user(t, s, e))
			}
			added := must(s.AddGroupMembers(ctx, "big", emails))
			if len(added) != len(emails) {
				t.Fatalf("added %d of %d", len(added), len(emails))
			}
			cs := must(s.GroupChangesAfter(ctx, 0, 10))
			last := must(s.LastGroupChange(ctx))
			if len(cs) != 10 || cs[0].UserID != users[0].ID || last < cs[9].ID || cs[0].CreatedAt < time.Now().Add(-time.Minute).UnixMilli() {
				t.Fatalf("first changes %+v, last %d", cs, last)
			}
			for i := 1; i < len(cs); i++ {
				if cs[i].ID <= cs[i-1].ID {
					t.Fatalf("not in id order: %+v", cs)
				}
			}
			if n := must(s.PruneGroupChanges(ctx, time.Now().Add(-time.Minute))); n != 0 {
				t.Fatalf("pruned %d recent changes", n)
			}
			if n := must(s.PruneGroupChanges(ctx, time.Now().Add(time.Second))); n != int64(len(emails)) {
				t.Fatalf("pruned %d, want %d", n, len(emails))
			}
			if cs := must(s.GroupChangesAfter(ctx, 0, 10)); len(cs) != 0 {
				t.Fatalf("left after pruning: %+v", cs)
			}
		})
	}
}

// When a membership change returns, every change with a smaller id is
// committed too, so a poller that follows ids never skips one, even with
// concurrent writers (on PostgreSQL ids are taken before commit).
func TestConcurrentGroupChangesBecomeVisibleInIDOrder(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			const writers, each = 8, 10
			for w := range writers {
				user(t, s, fmt.Sprintf("w%d@example.com", w))
			}
			must(s.CreateGroup(ctx, "t", true))
			var (
				wg     sync.WaitGroup
				mu     sync.Mutex
				poller int64
				seen   = map[int64]bool{}
				gaps   []string
			)
			done := make(chan struct{})
			pollerDone := make(chan struct{})
			// A poller as jobs runs one: after the highest id it has seen.
			go func() {
				defer close(pollerDone)
				for {
					select {
					case <-done:
						return
					default:
					}
					cs, err := s.GroupChangesAfter(ctx, poller, 1000)
					if err != nil {
						t.Error(err)
						return
					}
					for _, c := range cs {
						mu.Lock()
						seen[c.ID] = true
						mu.Unlock()
						poller = c.ID
					}
				}
			}()
			for w := range writers {
				wg.Go(func() {
					u, err := s.UserByEmail(ctx, fmt.Sprintf("w%d@example.com", w))
					if err != nil {
						t.Error(err)
						return
					}
					for i := range each {
						change := s.FollowGroup
						if i%2 == 1 {
							change = s.LeaveGroup
						}
						if err := change(ctx, u.ID, "t"); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			close(done)
			<-pollerDone
			// Whatever the poller missed below its cursor is lost to it.
			all := must(s.GroupChangesAfter(ctx, 0, 1000))
			if len(all) != writers*each {
				t.Fatalf("%d changes logged, want %d", len(all), writers*each)
			}
			for _, c := range all {
				if c.ID <= poller && !seen[c.ID] {
					gaps = append(gaps, fmt.Sprint(c.ID))
				}
			}
			if len(gaps) > 0 {
				t.Fatalf("the poller skipped changes %v", gaps)
			}
		})
	}
}
