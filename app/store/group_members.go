package store

import (
	"context"
	"fmt"
	"slices"

	"gorm.io/gorm"

	"beacon/app/models"
)

// AddGroupMembers puts the users with these emails into the group called
// name, all or none: an unknown group or email is an *UnknownError naming
// it, and changes nothing. It returns the ids of the users it added (those
// already in are left as they are), whose changes it logs.
func (s *Store) AddGroupMembers(ctx context.Context, name string, emails []string) (added []int64, err error) {
	err = s.lockedTx(ctx, groupsLock, func(tx *gorm.DB) error {
		g, users, members, err := membersToChange(tx, name, emails)
		if err != nil {
			return err
		}
		added = nil
		now := timestamp()
		var rows []models.GroupMember
		for _, id := range users {
			if !members[id] {
				added = append(added, id)
				rows = append(rows, models.GroupMember{GroupID: g.ID, UserID: id, CreatedAt: now})
			}
		}
		if len(rows) > 0 {
			if err := tx.CreateInBatches(rows, lookupChunk).Error; err != nil {
				return err
			}
		}
		return s.logGroupChanges(tx, added)
	})
	if err != nil {
		return nil, fmt.Errorf("add members to group %s: %w", name, err)
	}
	return added, nil
}

// RemoveGroupMembers takes the users with these emails out of the group
// called name, all or none, as AddGroupMembers puts them in. It returns
// the ids of those it removed (those not in it are no change).
func (s *Store) RemoveGroupMembers(ctx context.Context, name string, emails []string) (removed []int64, err error) {
	err = s.lockedTx(ctx, groupsLock, func(tx *gorm.DB) error {
		g, users, members, err := membersToChange(tx, name, emails)
		if err != nil {
			return err
		}
		removed = nil
		for _, id := range users {
			if members[id] {
				removed = append(removed, id)
			}
		}
		for chunk := range slices.Chunk(removed, lookupChunk) {
			if err := tx.Where("group_id = ? AND user_id IN ?", g.ID, chunk).Delete(&models.GroupMember{}).Error; err != nil {
				return err
			}
		}
		return s.logGroupChanges(tx, removed)
	})
	if err != nil {
		return nil, fmt.Errorf("remove members from group %s: %w", name, err)
	}
	return removed, nil
}

// membersToChange resolves a membership change in tx: the group, the ids
// of the users named by emails (ascending, each once), and which of them
// are members now. An unknown group, then unknown emails, are an
// *UnknownError.
func membersToChange(tx *gorm.DB, name string, emails []string) (models.Group, []int64, map[int64]bool, error) {
	g, err := groupByName(tx, name)
	if err != nil {
		return g, nil, nil, err
	}
	users, err := userIDsByEmail(tx, emails)
	if err != nil {
		return g, nil, nil, err
	}
	members := make(map[int64]bool)
	for chunk := range slices.Chunk(users, lookupChunk) {
		var in []int64
		if err := tx.Model(&models.GroupMember{}).Where("group_id = ? AND user_id IN ?", g.ID, chunk).Pluck("user_id", &in).Error; err != nil {
			return g, nil, nil, err
		}
		for _, id := range in {
			members[id] = true
		}
	}
	return g, users, members, nil
}

// userIDsByEmail returns the ids of the users with these emails, in any
// letter case, ascending and each once; emails that match nobody are an
// *UnknownError naming them as given.
func userIDsByEmail(tx *gorm.DB, emails []string) ([]int64, error) {
	users, err := usersByEmail(tx, emails)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	return ids, nil
}

// GroupMembers returns the members of every group, by group id, each
// group's ordered by email.
func (s *Store) GroupMembers(ctx context.Context) (map[int64][]models.User, error) {
	var rows []struct {
		GroupID int64
		models.User
	}
	err := s.db.WithContext(ctx).Table("group_members").
		Select("group_members.group_id, users.id, users.name, users.email").
		Joins("JOIN users ON users.id = group_members.user_id").
		Order("group_members.group_id, users.email").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list group members: %w", err)
	}
	out := make(map[int64][]models.User)
	for _, r := range rows {
		out[r.GroupID] = append(out[r.GroupID], r.User)
	}
	return out, nil
}

// OpenGroups lists the open groups (topics) by name, each saying whether
// the user with id userID follows it.
func (s *Store) OpenGroups(ctx context.Context, userID int64) ([]models.Topic, error) {
	var ts []models.Topic
	err := s.db.WithContext(ctx).Model(&models.Group{}).
		Select("groups.*, EXISTS (SELECT 1 FROM group_members m WHERE m.group_id = groups.id AND m.user_id = ?) AS following", userID).
		Where("groups.open").Order("name").Scan(&ts).Error
	if err != nil {
		return nil, fmt.Errorf("list topics for user %d: %w", userID, err)
	}
	return ts, nil
}

// FollowGroup makes the user with id userID a member of the open group
// called name; following it again changes nothing. A closed or unknown
// group is ErrNotFound, and nothing changes.
func (s *Store) FollowGroup(ctx context.Context, userID int64, name string) error {
	return s.followOrLeave(ctx, userID, name, true)
}

// LeaveGroup takes the user with id userID out of the open group called
// name, as FollowGroup puts them in.
func (s *Store) LeaveGroup(ctx context.Context, userID int64, name string) error {
	return s.followOrLeave(ctx, userID, name, false)
}

func (s *Store) followOrLeave(ctx context.Context, userID int64, name string, follow bool) error {
	err := s.lockedTx(ctx, groupsLock, func(tx *gorm.DB) error {
		g, err := groupByName(tx, name)
		if err != nil {
			return err
		}
		if !g.Open {
			return ErrNotFound
		}
		var res *gorm.DB
		if follow {
			res = tx.Exec("INSERT INTO group_members (group_id, user_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
				g.ID, userID, timestamp())
		} else {
			res = tx.Where("group_id = ? AND user_id = ?", g.ID, userID).Delete(&models.GroupMember{})
		}
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		return s.logGroupChanges(tx, []int64{userID})
	})
	if err != nil {
		verb := "leave"
		if follow {
			verb = "follow"
		}
		return fmt.Errorf("user %d: %s group %s: %w", userID, verb, name, err)
	}
	return nil
}
