package stream

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// What the hub does with its delivery counts (Options.CountEvery
// shortens countEvery in tests).
const (
	// countEvery is how often the deliveries counted since the last write
	// are written, together: counting each fan-out as it happened was a
	// write per notification, and each took SQLite's one write lock from
	// the posts queued for it.
	countEvery = time.Second
	// countGrace bounds the last write, as the hub stops.
	countGrace = 2 * time.Second
)

// deliveryCounts gathers live deliveries per notification id between
// writes. The hub's fan-out adds; one writer at a time takes what gathered
// and hands it back once written.
type deliveryCounts struct {
	db    countWriter
	every time.Duration
	log   *slog.Logger

	mu      sync.Mutex
	pending map[int64]int64
	spare   map[int64]int64 // the last map written, reused; nil while one is out
}

// countWriter is where the counts are written.
type countWriter interface {
	AddDeliveryCounts(ctx context.Context, counts map[int64]int64) error
}

func newDeliveryCounts(db countWriter, every time.Duration, log *slog.Logger) *deliveryCounts {
	return &deliveryCounts{db: db, every: every, log: log, pending: make(map[int64]int64), spare: make(map[int64]int64)}
}

// add counts n more deliveries of notification id.
func (d *deliveryCounts) add(id int64, n int) {
	d.mu.Lock()
	d.pending[id] += int64(n)
	d.mu.Unlock()
}

// take returns what gathered since the last take and starts afresh; the
// caller hands the map back with done.
func (d *deliveryCounts) take() map[int64]int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.pending) == 0 {
		return nil
	}
	out := d.pending
	d.pending, d.spare = d.spare, nil
	if d.pending == nil {
		d.pending = make(map[int64]int64)
	}
	return out
}

// done hands back a map from take. A failed write puts its counts back,
// to go with the next one.
func (d *deliveryCounts) done(m map[int64]int64, written bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !written {
		for id, n := range m {
			d.pending[id] += n
		}
	}
	clear(m)
	if d.spare == nil {
		d.spare = m
	}
}

// run writes the counts every d.every until ctx ends. The hub's Run
// writes the last ones once it and the fan-out have stopped.
func (d *deliveryCounts) run(ctx context.Context) {
	ticker := time.NewTicker(d.every)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			d.flush(ctx)
		}
	}
}

// writeLast waits for run to stop (counting closes) and writes what is
// left, as the hub's Run ends: the fan-out has stopped by then, and a
// write that ctx cut put its counts back, so none is lost.
func (d *deliveryCounts) writeLast(ctx context.Context, counting <-chan struct{}) {
	<-counting
	last, cancel := context.WithTimeout(context.WithoutCancel(ctx), countGrace)
	defer cancel()
	d.flush(last)
}

// flush writes the deliveries counted since the last write. On a failure
// they are kept for the next.
func (d *deliveryCounts) flush(ctx context.Context) {
	m := d.take()
	if m == nil {
		return
	}
	err := d.db.AddDeliveryCounts(ctx, m)
	if err != nil && ctx.Err() == nil {
		d.log.Warn("notification hub: count deliveries", "notifications", len(m), "err", err)
	}
	d.done(m, err == nil)
}
