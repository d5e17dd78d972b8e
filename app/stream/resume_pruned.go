package stream

import (
	"context"
	"sync"
	"time"
)

// pruneFresh is how old a reading of PrunedThrough the window trusts.
// Retention deletes notifications whatever their position (an old one
// edited today goes too), so a resume must know what was pruned: one query
// per pruneFresh serves every resume meanwhile. A prune in that time is
// seen late by at most pruneFresh, as the database's replay sees one that
// commits between its own queries late.
const pruneFresh = 500 * time.Millisecond

// prunedReadTimeout bounds one reading of PrunedThrough, which may go on
// after everyone waiting for it has gone: a database that hangs holds it
// this long, not forever, and the resumes waiting meanwhile then fall back
// to the database's replay.
const prunedReadTimeout = 5 * time.Second

// prunedCache is PrunedThrough read at most once per pruneFresh; resumes
// that come meanwhile wait for the one reading and share it, each for no
// longer than its own context lasts.
type prunedCache struct {
	mu     sync.Mutex
	read   time.Time // when the reading of value began
	value  int64
	flight *prunedReading // the reading under way, or nil
}

// prunedReading is one query of PrunedThrough; value and err are set
// before done closes.
type prunedReading struct {
	done  chan struct{}
	value int64
	err   error
}

// get returns what was pruned, as read at most pruneFresh ago, starting a
// reading when none is fresh or under way. It returns ctx.Err() once ctx
// ends, even while the reading goes on.
//
// The reading runs detached from the ctx of the caller that started it
// (keeping its values, bounded by prunedReadTimeout): its answer is every
// waiter's, and the next pruneFresh's. Bound to that one caller, a browser
// that goes away mid-resume would fail the resumes of all the others
// waiting with it, and in a reconnect storm send each to the database's
// replay, the load the window is there to spare.
func (c *prunedCache) get(ctx context.Context, source Source) (int64, error) {
	c.mu.Lock()
	if !c.read.IsZero() && time.Since(c.read) < pruneFresh {
		v := c.value
		c.mu.Unlock()
		return v, nil
	}
	if err := ctx.Err(); err != nil {
		c.mu.Unlock()
		return 0, err // no reading for a caller that cannot wait for it
	}
	f := c.flight
	if f == nil {
		f = &prunedReading{done: make(chan struct{})}
		c.flight = f
		go c.readPruned(context.WithoutCancel(ctx), source, f)
	}
	c.mu.Unlock()
	select {
	case <-f.done:
		return f.value, f.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// readPruned is reading f: it queries PrunedThrough, keeps the answer if
// there is one, and lets the next caller start another reading.
func (c *prunedCache) readPruned(ctx context.Context, source Source, f *prunedReading) {
	ctx, cancel := context.WithTimeout(ctx, prunedReadTimeout)
	defer cancel()
	started := time.Now()
	f.value, f.err = source.PrunedThrough(ctx)
	c.mu.Lock()
	if f.err == nil {
		c.value, c.read = f.value, started
	}
	c.flight = nil
	c.mu.Unlock()
	close(f.done)
}
