package stream

import (
	"context"
	"errors"
	"testing"
	"time"

	"beacon/app/pgtest"
	"beacon/app/store"
)

// Resumes waiting for the window's reading of PrunedThrough share one
// query; one whose context ends returns at once while the query goes on,
// and the end of the caller that started it ends no one else's wait. On
// PostgreSQL, where a lock on stream_state holds the query in flight.
func TestPrunedCacheSharesOneReadingAndWaitsNoLongerThanItsContext(t *testing.T) {
	url := pgtest.URL(t)
	if url == "" {
		t.Skip("no PostgreSQL to test on")
	}
	ctx := context.Background()
	st, err := store.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	hold, err := st.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	for _, q := range []string{
		"UPDATE stream_state SET pruned_through = 7 WHERE id = 1",
		"BEGIN",
		"LOCK TABLE stream_state IN ACCESS EXCLUSIVE MODE",
	} {
		if _, err := hold.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	held := true
	release := func() {
		if held {
			held = false
			if _, err := hold.ExecContext(ctx, "ROLLBACK"); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer release()

	var c prunedCache
	before := st.Queries()
	get := func(ctx context.Context) <-chan prunedResult {
		out := make(chan prunedResult, 1)
		go func() {
			v, err := c.get(ctx, st)
			out <- prunedResult{v, err}
		}()
		return out
	}
	starterCtx, endStarter := context.WithCancel(ctx)
	starter := get(starterCtx)
	// The reading waits for the lock.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var waiting int
		err := hold.QueryRowContext(ctx, "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'stream_state'::regclass").Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the reading never waited for the lock")
		}
	}

	// A waiter whose context ends while it waits stops waiting; the
	// reading goes on.
	leaverCtx, leave := context.WithTimeout(ctx, 200*time.Millisecond)
	defer leave()
	wantEnded(t, "a waiter", get(leaverCtx), context.DeadlineExceeded)
	// So it does once the caller that started it has gone.
	stayer := get(ctx)
	endStarter()
	wantEnded(t, "the starter", starter, context.Canceled)
	select {
	case r := <-stayer:
		t.Fatalf("answered while the lock is held: %d, %v", r.v, r.err)
	default:
	}

	release()
	select {
	case r := <-stayer:
		if r.v != 7 || r.err != nil {
			t.Fatalf("the one that stayed: %d, %v; want 7", r.v, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the one that stayed got no answer")
	}
	if n := st.Queries() - before; n != 1 {
		t.Fatalf("%d queries for three callers, want 1", n)
	}
}

type prunedResult struct {
	v   int64
	err error
}

// wantEnded fails the test unless ch soon answers want, its context's end.
func wantEnded(t *testing.T, name string, ch <-chan prunedResult, want error) {
	t.Helper()
	select {
	case r := <-ch:
		if !errors.Is(r.err, want) {
			t.Fatalf("%s, its context ended: %d, %v; want %v", name, r.v, r.err, want)
		}
	case <-time.After(2 * time.Second):
		t.Fatalf("%s whose context ended still waits for the reading", name)
	}
}
