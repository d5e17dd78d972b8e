package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"beacon/app/models"
)

// logGroupChanges records, in tx (which holds groupsLock), that the
// membership of each of userIDs changed, for every instance's poller.
func logGroupChanges(tx *gorm.DB, userIDs []int64) error {
	if len(userIDs) == 0 {
		return nil
	}
	now := time.Now().UnixMilli()
	rows := make([]models.GroupChange, len(userIDs))
	for i, id := range userIDs {
		rows[i] = models.GroupChange{UserID: id, CreatedAt: now}
	}
	return tx.CreateInBatches(rows, lookupChunk).Error
}

// GroupChangesAfter returns up to limit membership changes with an id
// above after, in id order, which is commit order.
func (s *Store) GroupChangesAfter(ctx context.Context, after int64, limit int) ([]models.GroupChange, error) {
	var cs []models.GroupChange
	if err := s.db.WithContext(ctx).Where("id > ?", after).Order("id").Limit(limit).Find(&cs).Error; err != nil {
		return nil, fmt.Errorf("group changes after %d: %w", after, err)
	}
	return cs, nil
}

// LastGroupChange returns the id of the newest membership change, 0 when
// none is kept: where a poller that starts now begins.
func (s *Store) LastGroupChange(ctx context.Context) (int64, error) {
	var id int64
	if err := s.db.WithContext(ctx).Model(&models.GroupChange{}).Select("COALESCE(MAX(id), 0)").Scan(&id).Error; err != nil {
		return 0, fmt.Errorf("last group change: %w", err)
	}
	return id, nil
}

// groupChangesPruneBatch bounds how many changes one transaction of
// PruneGroupChanges deletes, so that membership writes wait little.
const groupChangesPruneBatch = 1000

// PruneGroupChanges deletes the membership changes recorded before t, a
// batch at a time, and returns how many. Several instances may run it at
// once: each batch takes groupsLock. It reads before it writes: most
// prunes find nothing to delete, and a write waits for SQLite's writer.
func (s *Store) PruneGroupChanges(ctx context.Context, t time.Time) (int64, error) {
	var old []int64
	if err := s.db.WithContext(ctx).Model(&models.GroupChange{}).Where("created_at < ?", t.UnixMilli()).Limit(1).Pluck("id", &old).Error; err != nil {
		return 0, fmt.Errorf("prune group changes: %w", err)
	}
	if len(old) == 0 {
		return 0, nil
	}
	var pruned int64
	for {
		var n int64
		err := s.lockedTx(ctx, groupsLock, func(tx *gorm.DB) error {
			res := tx.Exec("DELETE FROM group_changes WHERE id IN (SELECT id FROM group_changes WHERE created_at < ? ORDER BY id LIMIT ?)",
				t.UnixMilli(), groupChangesPruneBatch)
			n = res.RowsAffected
			return res.Error
		})
		if err != nil {
			return pruned, fmt.Errorf("prune group changes: %w", err)
		}
		pruned += n
		if n < groupChangesPruneBatch {
			return pruned, nil
		}
	}
}
