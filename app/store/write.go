package store

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"gorm.io/gorm"

	"beacon/app/models"
	"beacon/migrations"
)

// write runs fn as this process's one SQLite writer at a time, and simply
// runs it on PostgreSQL.
//
// SQLite has one write lock per file, and a connection that finds it taken
// polls for it in its busy handler, sleeping 1, 2, 5 … up to 100 ms between
// looks: under eight concurrent API calls a post waited tens to hundreds of
// milliseconds for a lock that had been free for most of that time. Queued
// here instead, the next writer starts the moment the last one commits.
// Writers outside this process, and the few writes not routed here
// (sessions, reads, chat presence), still meet the busy handler, as before.
func (s *Store) write(ctx context.Context, fn func() error) error {
	if s.writer == nil {
		return fn()
	}
	select {
	case s.writer <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("wait to write: %w", ctx.Err())
	}
	defer func() { <-s.writer }()
	return fn()
}

// maxGroup bounds how many transactions one group commit carries.
const maxGroup = 64

// errGroupAborted answers the transactions of a group whose run panicked.
var errGroupAborted = errors.New("group commit aborted")

// groupTx is one transaction waiting for a group commit.
type groupTx struct {
	ctx context.Context
	fn  func(tx *gorm.DB) error
	// insert, when set, says that fn only inserts this notification: on
	// PostgreSQL the group stores all of those in one statement.
	insert *models.Notification
	done   chan error // buffered: the leader never waits on it
}

// group gathers the transactions that wait for their turn: on SQLite
// for the writer, on PostgreSQL for this instance's hold of the lock
// that orders stream positions. Whoever takes the turn runs every one
// gathered in one transaction and commits them together: under load the
// turn passes from one goroutine to the next once per group instead of
// once per transaction, and on SQLite each of those hand-overs waited for
// a CPU, on PostgreSQL for the lock's round trips and the commit's flush.
type group struct {
	turn    chan struct{} // SQLite: the writer; PostgreSQL: of its own
	mu      sync.Mutex
	waiting []*groupTx
}

// groupTx runs t.fn in a transaction committed with whichever others wait
// for the turn at the time; it returns once that commit is done. fn's
// error rolls back fn's own work alone, and is returned.
func (s *Store) groupTx(ctx context.Context, t *groupTx) error {
	t.ctx, t.done = ctx, make(chan error, 1)
	s.group.mu.Lock()
	s.group.waiting = append(s.group.waiting, t)
	s.group.mu.Unlock()
	for {
		select {
		case err := <-t.done:
			return err
		case s.group.turn <- struct{}{}:
			s.leadGroup()
		case <-ctx.Done():
			if s.group.withdraw(t) {
				return fmt.Errorf("wait to write: %w", ctx.Err())
			}
			// A leader has it: its answer comes.
			return <-t.done
		}
	}
}

// withdraw takes t off the waiting list, unless a leader took it already.
func (g *group) withdraw(t *groupTx) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, w := range g.waiting {
		if w == t {
			g.waiting = append(g.waiting[:i], g.waiting[i+1:]...)
			return true
		}
	}
	return false
}

// take returns up to maxGroup transactions waiting, oldest first.
func (g *group) take() []*groupTx {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := min(len(g.waiting), maxGroup)
	ts := make([]*groupTx, n)
	copy(ts, g.waiting)
	g.waiting = append(g.waiting[:0], g.waiting[n:]...)
	return ts
}

// leadGroup runs the group with the turn taken, and gives the turn back
// even when a transaction panics (gorm rolls back and panics on), so
// that one panic does not stop every later write.
func (s *Store) leadGroup() {
	defer func() { <-s.group.turn }()
	s.runGroup()
}

// groupRun is a group being run: its transactions and their answers.
type groupRun struct {
	ts   []*groupTx
	errs []error
}

// add takes ts into the run; those whose callers gave up already are
// answered so, and not run.
func (g *groupRun) add(ts []*groupTx) {
	for _, t := range ts {
		var err error
		if t.ctx.Err() != nil {
			err = fmt.Errorf("wait to write: %w", t.ctx.Err())
		}
		g.ts, g.errs = append(g.ts, t), append(g.errs, err)
	}
}

// runGroup runs, while holding the turn, the transactions waiting, in
// one transaction, and answers each once it commits.
func (s *Store) runGroup() {
	g := &groupRun{}
	g.add(s.group.take())
	if len(g.ts) == 0 {
		return
	}
	answered := false
	defer func() {
		if !answered { // fn panicked: nobody may wait forever
			for _, t := range g.ts {
				t.done <- errGroupAborted
			}
		}
	}()
	// Not one caller's context: one that gives up must not undo the others.
	ctx := context.WithoutCancel(g.ts[0].ctx)
	if s.dialect == migrations.Postgres {
		s.runPostgresGroup(ctx, g)
	} else {
		s.runSQLiteGroup(ctx, g)
	}
	answered = true
	for i, t := range g.ts {
		t.done <- g.errs[i]
	}
}

// refusal reports whether err is a transaction's own answer (nothing to
// change, a key or an email taken, a recipient deleted since it was
// checked), which its savepoint undoes alone.
func refusal(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, gorm.ErrRecordNotFound) ||
		errors.Is(err, ErrAlreadyDelivered) || errors.Is(err, ErrKeyTaken) || errors.Is(err, ErrEmailTaken) || duplicate(err) ||
		errors.Is(err, gorm.ErrForeignKeyViolated)
}
