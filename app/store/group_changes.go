package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"beacon/app/models"
	"beacon/migrations"
)

// logGroupChanges records, in tx (which holds groupsLock), that the
// membership of each of userIDs changed, for every instance's poller, and
// marks the change in the stream (users.membership_position, see
// Membership).
func (s *Store) logGroupChanges(tx *gorm.DB, userIDs []int64) error {
	if len(userIDs) == 0 {
		return nil
	}
	pos, err := s.reservePosition(tx)
	if err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	rows := make([]models.GroupChange, len(userIDs))
	for i, id := range userIDs {
		rows[i] = models.GroupChange{UserID: id, Position: pos, CreatedAt: now}
	}
	if err := tx.CreateInBatches(rows, lookupChunk).Error; err != nil {
		return err
	}
	if pos == 0 {
		return nil
	}
	for chunk := range slices.Chunk(userIDs, lookupChunk) {
		if err := tx.Exec("UPDATE users SET membership_position = ? WHERE id IN ?", pos, chunk).Error; err != nil {
			return err
		}
	}
	return nil
}

// reservePosition takes a stream position that no change will have, inside
// a transaction, once every position before it has committed: on
// PostgreSQL it waits for notificationsLock, which every write that takes
// positions holds until it commits; SQLite's writer is one. 0 while no
// notification was ever stored (nothing to tell apart).
func (s *Store) reservePosition(tx *gorm.DB) (int64, error) {
	if s.dialect == migrations.Postgres {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", int64(notificationsLock)).Error; err != nil {
			return 0, err
		}
		return s.nextPosition(tx)
	}
	var pos int64
	res := tx.Raw("UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'notifications' RETURNING seq").Scan(&pos)
	return pos, res.Error // no row: no notification yet, pos 0
}

// Membership is the user's groups (ascending) and the stream position
// reserved when they last changed (0: never). A client resuming from a
// cursor below it holds what the old groups chose.
func (s *Store) Membership(ctx context.Context, userID int64) (groups []int64, since int64, err error) {
	var rows []struct {
		MembershipPosition int64
		GroupID            *int64
	}
	err = s.db.WithContext(ctx).Raw(`SELECT u.membership_position, gm.group_id FROM users u
		LEFT JOIN group_members gm ON gm.user_id = u.id WHERE u.id = ? ORDER BY gm.group_id`, userID).Scan(&rows).Error
	if err != nil {
		return nil, 0, fmt.Errorf("membership of user %d: %w", userID, err)
	}
	for _, r := range rows {
		since = r.MembershipPosition
		if r.GroupID != nil {
			groups = append(groups, *r.GroupID)
		}
	}
	return groups, since, nil
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

// RegroupedBetween returns the membership changes that reserved a stream
// position in (after, through], in position order: the hub regroups their
// users' streams there (see Hub.deliverAfter).
func (s *Store) RegroupedBetween(ctx context.Context, after, through int64) ([]models.GroupChange, error) {
	var cs []models.GroupChange
	err := s.db.WithContext(ctx).Where("position > ? AND position <= ?", after, through).Order("position, user_id").Find(&cs).Error
	if err != nil {
		return nil, fmt.Errorf("membership changes in (%d, %d]: %w", after, through, err)
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
