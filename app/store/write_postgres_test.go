package store

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"

	"gorm.io/gorm"

	"beacon/app/models"
	"beacon/app/pgtest"
)

// openPostgres is a fresh store on PostgreSQL, or skips.
func openPostgres(t *testing.T) *Store {
	t.Helper()
	url := pgtest.URL(t)
	if url == "" {
		t.Skip("PostgreSQL not reachable")
	}
	return open(t, url)
}

// Posts that arrive together on PostgreSQL share one statement: the lock,
// their positions, their rows and the commit.
func TestPostgresPostsArrivingTogetherAreOneStatement(t *testing.T) {
	s := openPostgres(t)
	ctx := context.Background()
	s.group.turn <- struct{}{} // hold the turn while the group gathers
	const posts = 10
	ns := make([]models.Notification, posts)
	errs := make([]error, posts)
	var wg sync.WaitGroup
	for i := range ns {
		ns[i] = models.Notification{Title: "grouped", Level: "info"}
		wg.Go(func() { errs[i] = s.CreateNotification(ctx, &ns[i]) })
	}
	for waitingTxs(s) < posts {
		runtime.Gosched() // the posts queue within microseconds
	}
	before := s.Queries()
	<-s.group.turn
	wg.Wait()
	if got := s.Queries() - before; got != 1 {
		t.Errorf("%d posts together took %d statements, want 1", posts, got)
	}
	var ids []int64
	for i, n := range ns {
		if errs[i] != nil || n.ID == 0 || n.Position != n.ID || n.FirstPosition != n.ID {
			t.Fatalf("post %d: %+v, %v", i, n, errs[i])
		}
		ids = append(ids, n.ID)
	}
	slices.Sort(ids)
	if ids = slices.Compact(ids); len(ids) != posts || ids[posts-1]-ids[0] != posts-1 {
		t.Fatalf("positions %v, want %d consecutive ones", ids, posts)
	}
	var stored []models.Notification
	if err := s.db.Order("id").Find(&stored).Error; err != nil {
		t.Fatal(err)
	}
	for i, n := range stored {
		if n.ID != ids[i] || n.Position != n.ID || n.FirstPosition != n.ID || n.Title != "grouped" || n.CreatedAt.IsZero() {
			t.Fatalf("stored %+v, want id %d at its own position", n, ids[i])
		}
	}
}

// One post of a group that the database refuses fails alone: a plain post
// for a recipient deleted since it was checked, and a keyed one whose key
// is taken. The others of the group, plain posts, an edit and a keyed
// post, are stored, each at a position of its own, in order, and one whose
// caller gave up before its group ran is not stored.
func TestPostgresOneBadPostDoesNotFailItsGroup(t *testing.T) {
	s := openPostgres(t)
	ctx := context.Background()
	key := "deploy"
	first := models.Notification{Title: "first", Level: "info", Key: &key}
	if err := s.CreateNotification(ctx, &first); err != nil {
		t.Fatal(err)
	}
	gone := int64(1 << 40) // no such user

	s.group.turn <- struct{}{} // hold the turn while the group gathers
	type result struct {
		n   models.Notification
		err error
	}
	const posts = 8
	results := make([]result, posts)
	var wg sync.WaitGroup
	for i := range posts {
		n := models.Notification{Title: "grouped", Level: "info"}
		switch i {
		case 2:
			n.RecipientID = &gone // refused by the foreign key
		case 5:
			n.Key = &key // taken by first
		case 6:
			other := "other"
			n.Key = &other
		}
		wg.Go(func() {
			err := s.CreateNotification(ctx, &n)
			results[i] = result{n, err}
		})
	}
	edited := make(chan error, 1)
	go func() {
		title := "first, edited"
		_, err := s.UpdateNotification(ctx, first.ID, NotificationPatch{Title: &title})
		edited <- err
	}()
	gaveUp, cancel := context.WithCancel(ctx)
	quit := make(chan error, 1)
	go func() {
		n := models.Notification{Title: "gave up", Level: "info"}
		quit <- s.CreateNotification(gaveUp, &n)
	}()
	for waitingTxs(s) < posts+2 {
		runtime.Gosched()
	}
	cancel()
	if err := <-quit; !errors.Is(err, context.Canceled) {
		t.Fatalf("a post whose caller gave up: %v, want context.Canceled", err)
	}
	<-s.group.turn
	wg.Wait()
	if err := <-edited; err != nil {
		t.Fatalf("the edit in the group: %v", err)
	}

	stored := map[int64]bool{}
	for i, r := range results {
		switch i {
		case 2:
			if !errors.Is(r.err, gorm.ErrForeignKeyViolated) {
				t.Fatalf("post %d for a deleted recipient: %v, want a foreign key violation", i, r.err)
			}
		case 5:
			if !errors.Is(r.err, ErrKeyTaken) {
				t.Fatalf("post %d with a taken key: %v, want ErrKeyTaken", i, r.err)
			}
		default:
			if r.err != nil || r.n.ID <= first.ID || r.n.Position != r.n.ID || stored[r.n.ID] {
				t.Fatalf("post %d: %+v, %v", i, r.n, r.err)
			}
			stored[r.n.ID] = true
		}
	}
	var rows []models.Notification
	if err := s.db.Order("position").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+posts-2 {
		t.Fatalf("%d rows stored, want first and the %d accepted", len(rows), posts-2)
	}
	for i, n := range rows {
		if i > 0 && n.Position <= rows[i-1].Position {
			t.Fatalf("positions not increasing: %+v after %+v", n, rows[i-1])
		}
		if n.ID == first.ID {
			if n.Title != "first, edited" || n.Position <= first.Position {
				t.Fatalf("the edited one: %+v", n)
			}
		} else if !stored[n.ID] || n.Title != "grouped" {
			t.Fatalf("stored %+v, not one of the accepted posts", n)
		}
	}
	if last := must(s.LastPosition(ctx)); last != rows[len(rows)-1].Position {
		t.Fatalf("last position %d, want %d", last, rows[len(rows)-1].Position)
	}
}

// Two stores on one schema, as two instances, with many posters each:
// every position commits in order. A follower that reads after its
// cursor, again and again while they post, sees positions strictly
// increasing and, in the end, every post once: none commits behind a
// cursor that passed it.
func TestPostgresGroupsOfTwoInstancesCommitInOrder(t *testing.T) {
	url := pgtest.URL(t)
	if url == "" {
		t.Skip("PostgreSQL not reachable")
	}
	a, b := open(t, url), open(t, url)
	ctx := context.Background()
	const posters, each = 16, 25 // per instance
	var (
		mu     sync.Mutex
		posted []int64
		wg     sync.WaitGroup
	)
	for _, s := range []*Store{a, b} {
		for range posters {
			wg.Go(func() {
				for range each {
					n := models.Notification{Title: "racing", Level: "info"}
					if err := s.CreateNotification(ctx, &n); err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					posted = append(posted, n.ID)
					mu.Unlock()
				}
			})
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var seen []int64
	cursor := int64(0)
	follow := func() {
		ns, err := a.AllChangesAndWithdrawalsAfter(ctx, cursor, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range ns {
			if n.Position <= cursor {
				t.Fatalf("position %d after cursor %d", n.Position, cursor)
			}
			cursor = n.Position
			seen = append(seen, n.ID)
		}
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		follow()
	}
	follow() // a last look after every poster returned
	if t.Failed() {
		return
	}
	slices.Sort(posted)
	if !slices.Equal(seen, posted) {
		t.Fatalf("the follower saw %d posts, %d were posted: a position committed behind its cursor\nseen   %v\nposted %v",
			len(seen), len(posted), seen, posted)
	}
}

// A group that finds the lock taken by another instance waits for it, and
// once it has it carries every post that came meanwhile: the lock passes
// between instances once a group, so a group must not leave behind what
// waits.
func TestPostgresAGroupWaitingForTheLockTakesWhatCameMeanwhile(t *testing.T) {
	url := pgtest.URL(t)
	if url == "" {
		t.Skip("PostgreSQL not reachable")
	}
	a, other := open(t, url), open(t, url)
	ctx := context.Background()
	held := other.db.Begin() // another instance, holding the lock
	if err := held.Exec("SELECT pg_advisory_xact_lock(?)", int64(notificationsLock)).Error; err != nil {
		t.Fatal(err)
	}
	waitingOnLock := func() bool {
		var n int64
		if err := other.db.Raw("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n > 0
	}
	before := a.Queries()
	const posts = 10
	ns := make([]models.Notification, posts)
	errs := make([]error, posts)
	var wg sync.WaitGroup
	ns[0] = models.Notification{Title: "first", Level: "info"}
	wg.Go(func() { errs[0] = a.CreateNotification(ctx, &ns[0]) })
	for !waitingOnLock() {
		runtime.Gosched() // the first group tried, found it taken, and waits
	}
	for i := 1; i < posts; i++ {
		ns[i] = models.Notification{Title: "meanwhile", Level: "info"}
		wg.Go(func() { errs[i] = a.CreateNotification(ctx, &ns[i]) })
	}
	for waitingTxs(a) < posts-1 {
		runtime.Gosched()
	}
	if err := held.Commit().Error; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	// The try, the lock, and one insert for all ten.
	if got := a.Queries() - before; got != 3 {
		t.Errorf("%d posts, %d of them while the group waited for the lock, took %d statements, want 3", posts, posts-1, got)
	}
	var ids []int64
	for i, n := range ns {
		if errs[i] != nil || n.ID == 0 || n.Position != n.ID {
			t.Fatalf("post %d: %+v, %v", i, n, errs[i])
		}
		ids = append(ids, n.ID)
	}
	slices.Sort(ids)
	if ids[posts-1]-ids[0] != posts-1 || ids[0] != ns[0].ID {
		t.Fatalf("positions %v: want the first post's, then the others', consecutive", ids)
	}
}

// A group of plain posts only, one of them for a recipient deleted since
// it was checked: the database refuses the group's statement, and the
// group runs again post by post, so that only that one fails.
func TestPostgresOneBadPlainPostFailsAlone(t *testing.T) {
	s := openPostgres(t)
	ctx := context.Background()
	gone := int64(1 << 40)
	s.group.turn <- struct{}{}
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
	<-s.group.turn
	wg.Wait()
	stored := 0
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
		stored++
	}
	var n int64
	if err := s.db.Model(&models.Notification{}).Count(&n).Error; err != nil || n != int64(stored) {
		t.Fatalf("%d rows (%v), want %d", n, err, stored)
	}
}

// The statement that stores a group of posts is planned once per
// connection, not at every execution: PostgreSQL keeps its generic plan.
// Planned afresh, it cost more of the database's CPU than running it.
func TestInsertStatementIsPlannedOnce(t *testing.T) {
	s := openPostgres(t)
	ctx := context.Background()
	conn, err := s.sqlDB.Conn(ctx) // pg_prepared_statements is one connection's
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i := range 12 {
		ns := make([]*models.Notification, 1+i%3) // groups of different sizes
		for j := range ns {
			ns[j] = &models.Notification{Title: "planned", Level: "info"}
			prepareInsert(ns[j], timestamp())
		}
		stored, err := s.insertUnderLock(ctx, conn, ns, insertTryingSQL)
		if err != nil || !stored {
			t.Fatalf("insert %d: stored %v, %v", i, stored, err)
		}
	}
	var generic, custom int64
	err = conn.QueryRowContext(ctx, `SELECT generic_plans, custom_plans FROM pg_prepared_statements
		WHERE statement LIKE 'WITH locked AS MATERIALIZED (SELECT pg_try_advisory_xact_lock%'`).Scan(&generic, &custom)
	if err != nil {
		t.Fatal(err)
	}
	if generic < 6 {
		t.Fatalf("of 12 executions %d were planned afresh and %d used the generic plan, want at most 6 planned", custom, generic)
	}
}
