package store

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"beacon/app/models"
)

// insertOnly stores n at a new position without looking for a live
// notification holding its key, as no production path does: the unique
// index then refuses a taken key, after the position was taken. It is the
// tests' refusal that has something to undo.
func insertOnly(ctx context.Context, s *Store, n *models.Notification) error {
	return s.positionedTx(ctx, func(tx *gorm.DB) error { return s.insertNotification(tx, n, timestamp()) })
}

// waitingTxs is how many transactions wait for s's writer.
func waitingTxs(s *Store) int {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return len(s.group.waiting)
}

// Posts that wait for the SQLite writer together commit together: each
// gets its own answer, one refused in the group (a key taken) undoes
// nothing of the others', one whose caller gave up is not stored, and the
// ids are the positions in order.
func TestPostsWaitingForTheWriterCommitAsAGroup(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "beacon.db"))
	ctx := context.Background()
	key := "deploy"
	first := models.Notification{Title: "first", Level: "info", Key: &key}
	if _, err := s.CreateOrReplaceNotification(ctx, &first); err != nil {
		t.Fatal(err)
	}

	s.writer <- struct{}{} // hold the writer while the group gathers
	const posts = 10
	type result struct {
		n   models.Notification
		err error
	}
	results := make([]result, posts)
	var wg sync.WaitGroup
	for i := range posts {
		n := models.Notification{Title: "grouped", Level: "info"}
		wg.Go(func() {
			var err error
			if i == 3 {
				n.Key = &key // taken by first: refused
				err = insertOnly(ctx, s, &n)
			} else {
				_, err = s.CreateOrReplaceNotification(ctx, &n)
			}
			results[i] = result{n, err}
		})
	}
	gaveUp, cancel := context.WithCancel(ctx)
	quit := make(chan error, 1)
	go func() {
		n := models.Notification{Title: "gave up", Level: "info"}
		_, err := s.CreateOrReplaceNotification(gaveUp, &n)
		quit <- err
	}()
	for waitingTxs(s) < posts+1 {
		// The posts queue within microseconds; yield until they have.
		runtime.Gosched()
	}
	cancel()
	if err := <-quit; !errors.Is(err, context.Canceled) {
		t.Fatalf("a post whose caller gave up: %v, want context.Canceled", err)
	}
	<-s.writer
	wg.Wait()

	seen := map[int64]bool{}
	for i, r := range results {
		if i == 3 {
			if !duplicate(r.err) {
				t.Fatalf("post %d with a taken key: %v, want it refused", i, r.err)
			}
			continue
		}
		if r.err != nil || r.n.ID <= first.ID || seen[r.n.ID] {
			t.Fatalf("post %d: id %d, %v (first %d, seen %v)", i, r.n.ID, r.err, first.ID, seen)
		}
		seen[r.n.ID] = true
	}
	var stored []models.Notification
	if err := s.db.Order("id").Find(&stored).Error; err != nil {
		t.Fatal(err)
	}
	if len(stored) != posts { // first and the 9 accepted
		t.Fatalf("%d rows stored, want %d", len(stored), posts)
	}
	// The refused one's work, its position too, went with its savepoint:
	// no gap.
	for i, n := range stored[1:] {
		if !seen[n.ID] || n.Title != "grouped" || n.Position != n.ID || n.ID != first.ID+int64(i)+1 {
			t.Fatalf("stored %+v, not the accepted posts at the next positions after %d", n, first.ID)
		}
	}
	if last := must(s.LastPosition(ctx)); last != stored[len(stored)-1].ID {
		t.Fatalf("last position %d, want %d", last, stored[len(stored)-1].ID)
	}
}

// A transaction that panics answers its group and gives the writer back:
// the next post is stored.
func TestAPanicInAGroupDoesNotStopLaterWrites(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "beacon.db"))
	ctx := context.Background()
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic did not reach its caller")
			}
		}()
		_ = s.lockedTx(ctx, notificationsLock, func(*gorm.DB) error { panic("boom") })
	}()
	done := make(chan error, 1)
	go func() {
		_, err := s.CreateOrReplaceNotification(ctx, &models.Notification{Title: "after", Level: "info"})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a post after the panic still waits for the writer after 5s")
	}
}

// A failure of the database itself fails the whole group it came in: none
// of the group hears of a commit, and none of it is stored.
func TestAFailingTransactionFailsItsGroup(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "beacon.db"))
	ctx := context.Background()
	s.writer <- struct{}{} // hold the writer while the group gathers
	failure := errors.New("disk I/O error")
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			errs[i] = s.lockedTx(ctx, notificationsLock, func(tx *gorm.DB) error {
				if i == 1 {
					return failure
				}
				return s.insertNotification(tx, &models.Notification{Title: "grouped", Level: "info"}, timestamp())
			})
		})
		for waitingTxs(s) < i+1 {
			runtime.Gosched() // in this order: one before the failure, one after
		}
	}
	<-s.writer
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, failure) {
			t.Errorf("transaction %d: %v, want the group's failure", i, err)
		}
	}
	if last, err := s.LastPosition(ctx); err != nil || last != 0 {
		t.Fatalf("last position %d (%v): the failed group stored something", last, err)
	}
}
