package store

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
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

// On SQLite too, a group's plain posts are one statement, and one of them
// for a recipient deleted since it was checked fails alone: the statement
// is undone, the group runs again post by post, and the others are
// stored at consecutive positions, with no hole.
func TestOneBadPlainPostFailsAloneOnSQLite(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "beacon.db"))
	ctx := context.Background()
	gone := int64(1 << 40)
	s.writer <- struct{}{} // hold the writer while the group gathers
	const posts = 6
	ns := make([]models.Notification, posts)
	errs := make([]error, posts)
	var wg sync.WaitGroup
	for i := range ns {
		ns[i] = models.Notification{Title: "plain", Level: "info"}
		if i == 3 {
			ns[i].RecipientID = &gone
		}
		wg.Go(func() { errs[i] = s.CreateNotification(ctx, &ns[i]) })
	}
	for waitingTxs(s) < posts {
		runtime.Gosched()
	}
	before := s.Queries()
	<-s.writer
	wg.Wait()
	for i, err := range errs {
		if i == 3 {
			if !errors.Is(err, gorm.ErrForeignKeyViolated) {
				t.Fatalf("the post for a deleted recipient: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
	}
	if got := s.Queries() - before; got < posts {
		t.Fatalf("%d statements: the group did not run again post by post", got)
	}
	var stored []models.Notification
	if err := s.db.Order("id").Find(&stored).Error; err != nil {
		t.Fatal(err)
	}
	if len(stored) != posts-1 {
		t.Fatalf("%d rows stored, want %d", len(stored), posts-1)
	}
	for i, n := range stored {
		if n.ID != int64(i)+1 || n.Position != n.ID || n.FirstPosition != n.ID {
			t.Fatalf("stored %+v at %d: want consecutive positions from 1", n, i)
		}
	}
}

// Posts the writer stores in one statement read back as a post stored
// alone does: every field, scheduled or not, for everyone or for a user.
func TestAGroupsPostsReadBackAsOneAloneDoes(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "beacon.db"))
	ctx := context.Background()
	u := user(t, s, "reader@example.com")
	later := time.Now().Add(time.Hour).UTC()
	variants := []func() models.Notification{
		func() models.Notification { return models.Notification{Title: "plain", Body: "b", Level: "info"} },
		func() models.Notification {
			return models.Notification{Title: "for one", Level: "warning", RecipientID: &u.ID}
		},
		func() models.Notification {
			return models.Notification{Title: "later", Level: "info", DeliverAt: &later}
		},
	}
	var alone []models.Notification
	for _, v := range variants {
		n := v()
		if err := insertOnly(ctx, s, &n); err != nil { // the savepoint path
			t.Fatal(err)
		}
		alone = append(alone, must(s.NotificationByID(ctx, n.ID)))
	}
	s.writer <- struct{}{}
	grouped := make([]models.Notification, len(variants))
	errs := make([]error, len(variants))
	var wg sync.WaitGroup
	for i, v := range variants {
		grouped[i] = v()
		wg.Go(func() { errs[i] = s.CreateNotification(ctx, &grouped[i]) })
	}
	for waitingTxs(s) < len(variants) {
		runtime.Gosched()
	}
	<-s.writer
	wg.Wait()
	for i := range variants {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		a, g := alone[i], must(s.NotificationByID(ctx, grouped[i].ID))
		if g.ID != grouped[i].ID || g.Position != grouped[i].Position || g.FirstPosition != grouped[i].FirstPosition {
			t.Fatalf("%q: stored at %d/%d/%d, told %d/%d/%d", g.Title, g.ID, g.Position, g.FirstPosition,
				grouped[i].ID, grouped[i].Position, grouped[i].FirstPosition)
		}
		// What differs between the two is where and when they were posted.
		a.ID, a.Position, a.CreatedAt, a.UpdatedAt = g.ID, g.Position, g.CreatedAt, g.UpdatedAt
		if a.FirstPosition != 0 {
			a.FirstPosition = g.ID
		}
		if !reflect.DeepEqual(a, g) {
			t.Fatalf("grouped post reads back as\n%+v\nalone as\n%+v", g, a)
		}
		if !g.CreatedAt.Equal(g.UpdatedAt) || g.CreatedAt.Location() != time.UTC {
			t.Fatalf("%q: created %v, updated %v", g.Title, g.CreatedAt, g.UpdatedAt)
		}
	}
}
