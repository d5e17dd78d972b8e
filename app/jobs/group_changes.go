package jobs

import (
	"context"
	"log/slog"
	"time"

	"beacon/app/broker"
	"beacon/app/models"
)

// The membership watch's timings. A change made anywhere (the CLI is
// another process, and SQLite has no NOTIFY) reaches this instance's
// streams within watchEvery and a query; the log keeps changes for
// changesKept, far longer than any instance takes to read them, and is
// pruned every pruneChangesEvery.
const (
	watchEvery        = time.Second
	changesKept       = time.Minute
	pruneChangesEvery = 30 * time.Second
	// watchBatch is how many changes one look reads; a bigger burst is
	// read in several looks at once.
	watchBatch = 1000
)

// GroupChanges is what the membership watch needs from the store.
type GroupChanges interface {
	LastGroupChange(ctx context.Context) (int64, error)
	GroupChangesAfter(ctx context.Context, after int64, limit int) ([]models.GroupChange, error)
	// PruneGroupChanges deletes the changes recorded before t; instances
	// take turns under the store's lock.
	PruneGroupChanges(ctx context.Context, t time.Time) (int64, error)
}

// LocalWaker wakes this instance's subscribers of a topic alone: every
// instance reads the log itself, so a wake-up through PostgreSQL would
// reach each instance once per instance.
type LocalWaker interface {
	WakeLocal(topic string)
}

// GroupWatch reads the group_changes log every watchEvery and wakes
// broker.UserTopic of each user whose membership changed, on this
// instance. Every instance runs one.
type GroupWatch struct {
	st  GroupChanges
	b   LocalWaker
	log *slog.Logger
	// cursor is the newest change read; known is false until it was
	// read from the database once.
	cursor int64
	known  bool
}

// NewGroupWatch returns a watch that starts after the newest change now,
// so that every change committed once it returns reaches this instance.
// A failure to read it is logged, and Run reads it again.
func NewGroupWatch(ctx context.Context, st GroupChanges, b LocalWaker, log *slog.Logger) *GroupWatch {
	w := &GroupWatch{st: st, b: b, log: log}
	w.start(ctx)
	return w
}

func (w *GroupWatch) start(ctx context.Context) {
	cursor, err := w.st.LastGroupChange(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Error("group changes: newest", "err", err)
		}
		return
	}
	w.cursor, w.known = cursor, true
}

// Run wakes the users of new changes every watchEvery, and prunes the log
// every pruneChangesEvery, until ctx ends. A failed look is logged and
// tried again at the next tick, from the same cursor.
func (w *GroupWatch) Run(ctx context.Context) error {
	ticker := time.NewTicker(watchEvery)
	defer ticker.Stop()
	lastPrune := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
		if !w.known {
			w.start(ctx)
		} else {
			w.wakeChanged(ctx)
		}
		if time.Since(lastPrune) >= pruneChangesEvery {
			lastPrune = time.Now()
			if _, err := w.st.PruneGroupChanges(ctx, lastPrune.Add(-changesKept)); err != nil && ctx.Err() == nil {
				w.log.Error("group changes: prune", "err", err)
			}
		}
	}
}

// wakeChanged wakes the users of the changes after the cursor, each once,
// and moves the cursor past them.
func (w *GroupWatch) wakeChanged(ctx context.Context) {
	for {
		cs, err := w.st.GroupChangesAfter(ctx, w.cursor, watchBatch)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Error("group changes: read", "after", w.cursor, "err", err)
			}
			return
		}
		woken := make(map[int64]bool, len(cs))
		for _, c := range cs {
			if !woken[c.UserID] {
				woken[c.UserID] = true
				w.b.WakeLocal(broker.UserTopic(c.UserID))
			}
			w.cursor = c.ID
		}
		if len(cs) < watchBatch {
			return
		}
	}
}
