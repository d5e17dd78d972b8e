package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"beacon/app/models"
)

// FollowProviderGroups makes the membership of the user with id userID
// follow the groups an identity provider names at sign-in: of Beacon's
// existing groups, they are in each one named, and out of each closed
// group not named. Topics (open groups) not named are left as they are:
// following one is the person's own choice. Names that are no Beacon
// group are ignored, never created. A change is logged like any other
// (the user's streams reset); changed says whether there was one.
func (s *Store) FollowProviderGroups(ctx context.Context, userID int64, names []string) (changed bool, err error) {
	named := make(map[string]bool, len(names))
	for _, n := range names {
		named[n] = true
	}
	err = s.lockedTx(ctx, groupsLock, func(tx *gorm.DB) error {
		changed = false // a retried transaction starts afresh
		var groups []models.Group
		if err := tx.Model(&models.Group{}).Select("id", "name", "open").Find(&groups).Error; err != nil {
			return err
		}
		var in []int64
		if err := tx.Model(&models.GroupMember{}).Where("user_id = ?", userID).Pluck("group_id", &in).Error; err != nil {
			return err
		}
		member := make(map[int64]bool, len(in))
		for _, id := range in {
			member[id] = true
		}
		var join, leave []int64
		for _, g := range groups {
			switch {
			case named[g.Name] && !member[g.ID]:
				join = append(join, g.ID)
			case !named[g.Name] && member[g.ID] && !g.Open:
				leave = append(leave, g.ID)
			}
		}
		if len(join) == 0 && len(leave) == 0 {
			return nil
		}
		now := timestamp()
		rows := make([]models.GroupMember, len(join))
		for i, id := range join {
			rows[i] = models.GroupMember{GroupID: id, UserID: userID, CreatedAt: now}
		}
		if len(rows) > 0 {
			if err := tx.CreateInBatches(rows, lookupChunk).Error; err != nil {
				return err
			}
		}
		if len(leave) > 0 {
			if err := tx.Where("user_id = ? AND group_id IN ?", userID, leave).Delete(&models.GroupMember{}).Error; err != nil {
				return err
			}
		}
		changed = true
		return s.logGroupChanges(tx, []int64{userID})
	})
	if err != nil {
		return false, fmt.Errorf("user %d: follow the provider's groups: %w", userID, err)
	}
	return changed, nil
}
