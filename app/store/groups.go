package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"

	"beacon/app/models"
)

// groupsLock orders every write to memberships on PostgreSQL, so that the
// group_changes log commits in id order and a poller that read up to an id
// never misses a smaller one committed later (SQLite's single writer does
// that by itself).
const groupsLock = notificationsLock + 11

// ErrGroupTaken is returned when a group with that name exists.
var ErrGroupTaken = errors.New("a group with that name exists")

// ErrBadGroupName is returned for a name models.ValidGroupName refuses.
var ErrBadGroupName = errors.New("group names are " + models.GroupNameRule)

// UnknownError names what a call named that does not exist: users by
// email, or groups by name. errors.Is finds ErrNotFound in it.
type UnknownError struct {
	Kind  string   // "user" or "group"
	Names []string // as given, in the order given
}

func (e *UnknownError) Error() string {
	return "unknown " + e.Kind + ": " + strings.Join(e.Names, ", ")
}

// Is makes an UnknownError an ErrNotFound.
func (e *UnknownError) Is(target error) bool { return target == ErrNotFound }

// CreateGroup creates a group; ErrBadGroupName for a name the rule
// refuses, ErrGroupTaken for one in use.
func (s *Store) CreateGroup(ctx context.Context, name string, open bool) (models.Group, error) {
	g := models.Group{Name: name, Open: open}
	if !models.ValidGroupName(name) {
		return g, fmt.Errorf("create group %q: %w", name, ErrBadGroupName)
	}
	err := s.lockedTx(ctx, groupsLock, func(tx *gorm.DB) error {
		return tx.Create(&g).Error
	})
	if duplicate(err) {
		err = ErrGroupTaken
	}
	if err != nil {
		return g, fmt.Errorf("create group %s: %w", name, err)
	}
	return g, nil
}

// DeleteGroup deletes the group called name and returns the ids of its
// members, whose membership changed (and is logged for the pollers).
func (s *Store) DeleteGroup(ctx context.Context, name string) (members []int64, err error) {
	err = s.lockedTx(ctx, groupsLock, func(tx *gorm.DB) error {
		g, err := groupByName(tx, name)
		if err != nil {
			return err
		}
		members = nil // a retried transaction starts afresh
		if err := tx.Model(&models.GroupMember{}).Where("group_id = ?", g.ID).Order("user_id").Pluck("user_id", &members).Error; err != nil {
			return err
		}
		if err := tx.Where("group_id = ?", g.ID).Delete(&models.GroupMember{}).Error; err != nil {
			return err
		}
		if err := tx.Delete(&g).Error; err != nil {
			return err
		}
		return s.logGroupChanges(tx, members)
	})
	if err != nil {
		return nil, fmt.Errorf("delete group %s: %w", name, err)
	}
	s.audiences.forget() // their entries naming it went with it
	return members, nil
}

// Groups lists every group by name, each with its member count.
func (s *Store) Groups(ctx context.Context) ([]models.Group, error) {
	var gs []models.Group
	if err := withMembers(s.db.WithContext(ctx)).Order("name").Find(&gs).Error; err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	return gs, nil
}

// GroupByName returns the group called name with its member count; an
// *UnknownError when there is none.
func (s *Store) GroupByName(ctx context.Context, name string) (models.Group, error) {
	var gs []models.Group
	if err := withMembers(s.db.WithContext(ctx)).Where("name = ?", name).Find(&gs).Error; err != nil {
		return models.Group{}, fmt.Errorf("group %s: %w", name, err)
	}
	if len(gs) == 0 {
		return models.Group{}, &UnknownError{Kind: "group", Names: []string{name}}
	}
	return gs[0], nil
}

// withMembers selects groups with their member counts.
func withMembers(db *gorm.DB) *gorm.DB {
	return db.Model(&models.Group{}).
		Select("groups.*, (SELECT count(*) FROM group_members m WHERE m.group_id = groups.id) AS members")
}

// GroupsByName returns the groups called names, in the order asked, each
// once. Names that match no group make an *UnknownError naming them; the
// groups found are returned with it.
func (s *Store) GroupsByName(ctx context.Context, names []string) ([]models.Group, error) {
	names = uniq(names)
	byName := make(map[string]models.Group, len(names))
	for chunk := range slices.Chunk(names, lookupChunk) {
		var gs []models.Group
		if err := s.db.WithContext(ctx).Where("name IN ?", chunk).Find(&gs).Error; err != nil {
			return nil, fmt.Errorf("groups by name: %w", err)
		}
		for _, g := range gs {
			byName[g.Name] = g
		}
	}
	out := make([]models.Group, 0, len(names))
	var unknown []string
	for _, n := range names {
		if g, ok := byName[n]; ok {
			out = append(out, g)
		} else {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return out, &UnknownError{Kind: "group", Names: unknown}
	}
	return out, nil
}

// GroupIDsOf returns the ids of the groups the user with id userID is in,
// ascending; none for a visitor (0).
func (s *Store) GroupIDsOf(ctx context.Context, userID int64) ([]int64, error) {
	return groupIDsOf(ctx, s.db, userID)
}

func groupIDsOf(ctx context.Context, db *gorm.DB, userID int64) ([]int64, error) {
	var ids []int64
	if userID == 0 {
		return ids, nil
	}
	err := db.WithContext(ctx).Model(&models.GroupMember{}).Where("user_id = ?", userID).
		Order("group_id").Pluck("group_id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("groups of user %d: %w", userID, err)
	}
	return ids, nil
}

// lookupChunk bounds the names one IN (…) carries: well under SQLite's
// and PostgreSQL's limits on parameters.
const lookupChunk = 500

// groupByName finds a group in tx; an *UnknownError when there is none.
func groupByName(tx *gorm.DB, name string) (models.Group, error) {
	var g models.Group
	err := tx.Where("name = ?", name).Take(&g).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return g, &UnknownError{Kind: "group", Names: []string{name}}
	}
	return g, err
}

// uniq is ss without repeats, in first-seen order.
func uniq(ss []string) []string {
	seen := make(map[string]bool, len(ss))
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
