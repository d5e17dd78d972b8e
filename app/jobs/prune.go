package jobs

import (
	"context"
	"log/slog"
	"time"
)

// Bounds of the time between two prunes: a tenth of the retention, so
// nothing outlives it by more than that, but at most an hour, and not so
// often that a tiny retention keeps the database busy.
const (
	minPruneEvery = 100 * time.Millisecond
	maxPruneEvery = time.Hour
)

// Prune is what the pruner needs from the store.
type Prune interface {
	// PruneNotificationsBefore deletes the notifications delivered before
	// t; instances take turns under the store's lock.
	PruneNotificationsBefore(ctx context.Context, t time.Time) (int64, error)
}

// PruneEvery is how often notifications are pruned under retention.
func PruneEvery(retention time.Duration) time.Duration {
	return min(max(retention/10, minPruneEvery), maxPruneEvery)
}

// PruneOld deletes notifications older than retention at start and then
// every PruneEvery(retention), until ctx ends. A failed prune is logged and
// tried again at the next tick.
func PruneOld(ctx context.Context, st Prune, retention time.Duration, log *slog.Logger) error {
	ticker := time.NewTicker(PruneEvery(retention))
	defer ticker.Stop()
	for {
		n, err := st.PruneNotificationsBefore(ctx, time.Now().Add(-retention))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("prune notifications", "retention", retention, "err", err)
		case n > 0:
			log.Info("pruned notifications", "count", n, "retention", retention)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// How long each person's read and archive changes are kept (a tab that
// reconnects later reloads instead), and how often older ones go.
const (
	StateChangesKept = 24 * time.Hour
	pruneStateEvery  = 10 * time.Minute
)

// PruneStates is what the state-change pruner needs from the store.
type PruneStates interface {
	PruneStateChangesBefore(ctx context.Context, t time.Time) (int64, error)
}

// PruneStateChanges deletes the read and archive changes older than
// StateChangesKept at start and every pruneStateEvery, until ctx ends.
// Every instance runs it; a second delete of the same rows deletes none.
func PruneStateChanges(ctx context.Context, st PruneStates, log *slog.Logger) error {
	ticker := time.NewTicker(pruneStateEvery)
	defer ticker.Stop()
	for {
		if _, err := st.PruneStateChangesBefore(ctx, time.Now().Add(-StateChangesKept)); err != nil && ctx.Err() == nil {
			log.Error("prune state changes", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}
