package store

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"beacon/app/models"
)

// audiencesLock orders the creation of audiences on PostgreSQL, so that two
// posts naming the same new set store it once.
const audiencesLock = notificationsLock + 12

// Addressed is a post's `to`, resolved: one user alone (RecipientID, the
// fast path the rule has always had), or a stored audience of users and
// groups (AudienceID, its entries in Addressees), or nobody named (for
// everyone).
type Addressed struct {
	RecipientID *int64
	Recipient   *models.User
	AudienceID  *int64
	Addressees  []models.AudienceMember
}

// Apply addresses n so.
func (a Addressed) Apply(n *models.Notification) {
	n.RecipientID, n.Recipient, n.AudienceID, n.Addressees = a.RecipientID, a.Recipient, a.AudienceID, a.Addressees
}

// Named is a post's `to`, looked up: the users and groups it names.
type Named struct {
	Users  []models.User
	Groups []models.Group
}

// Address resolves to (Resolve) and stores the audience it names (Store).
func (s *Store) Address(ctx context.Context, to []string) (Addressed, error) {
	named, err := s.Resolve(ctx, to)
	if err != nil {
		return Addressed{}, err
	}
	return s.StoreAudience(ctx, named)
}

// Resolve looks up to, emails of users and group:NAME entries (blank ones
// skipped, each counted once), and stores nothing. Unknown users and
// groups are an *UnknownError naming each entry as given (groups with
// their prefix).
func (s *Store) Resolve(ctx context.Context, to []string) (Named, error) {
	var emails, groupNames []string
	for _, e := range to {
		e = strings.TrimSpace(e)
		switch {
		case e == "":
		case strings.HasPrefix(e, models.AudienceGroupPrefix):
			groupNames = append(groupNames, strings.TrimPrefix(e, models.AudienceGroupPrefix))
		default:
			emails = append(emails, e)
		}
	}
	db := s.db.WithContext(ctx)
	var users []models.User
	var groups []models.Group
	var unknown []string
	var uerr *UnknownError
	if len(emails) > 0 {
		var err error
		if users, err = usersByEmail(db, emails); errors.As(err, &uerr) {
			unknown = append(unknown, uerr.Names...)
		} else if err != nil {
			return Named{}, fmt.Errorf("resolve %d entries: %w", len(to), err)
		}
	}
	if len(groupNames) > 0 {
		var err error
		if groups, err = s.GroupsByName(ctx, groupNames); errors.As(err, &uerr) {
			for _, n := range uerr.Names {
				unknown = append(unknown, models.AudienceGroupPrefix+n)
			}
		} else if err != nil {
			return Named{}, fmt.Errorf("resolve %d entries: %w", len(to), err)
		}
	}
	if len(unknown) > 0 {
		return Named{}, &UnknownError{Kind: "user or group", Names: unknown}
	}
	return Named{Users: users, Groups: groups}, nil
}

// StoreAudience addresses a post to named: nobody (everyone), one user
// alone (its recipient), or else the stored audience of those users and
// groups, stored once.
func (s *Store) StoreAudience(ctx context.Context, named Named) (Addressed, error) {
	users, groups := named.Users, named.Groups
	switch {
	case len(users) == 0 && len(groups) == 0:
		return Addressed{}, nil
	case len(users) == 1 && len(groups) == 0:
		return Addressed{RecipientID: &users[0].ID, Recipient: &users[0]}, nil
	}
	id, err := s.audienceID(ctx, users, groups)
	if err != nil {
		return Addressed{}, err
	}
	a := Addressed{AudienceID: &id}
	for i := range users {
		a.Addressees = append(a.Addressees, models.AudienceMember{AudienceID: id, UserID: &users[i].ID, User: &users[i]})
	}
	for i := range groups {
		a.Addressees = append(a.Addressees, models.AudienceMember{AudienceID: id, GroupID: &groups[i].ID, Group: &groups[i]})
	}
	return a, nil
}

// audienceID is the id of the audience of exactly these users and groups,
// stored once: its digest names the set, and its entries never change
// (but for the cascade when a user or group is deleted).
func (s *Store) audienceID(ctx context.Context, users []models.User, groups []models.Group) (int64, error) {
	digest := audienceDigest(users, groups)
	var id int64
	err := s.db.WithContext(ctx).Model(&audienceRow{}).Select("id").Where("digest = ?", digest).Scan(&id).Error
	if err != nil || id != 0 {
		return id, err
	}
	err = s.lockedTx(ctx, audiencesLock, func(tx *gorm.DB) error {
		// Another post may have stored it since the look above.
		if err := tx.Model(&audienceRow{}).Select("id").Where("digest = ?", digest).Scan(&id).Error; err != nil || id != 0 {
			return err
		}
		row := audienceRow{Digest: digest, CreatedAt: timestamp()}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		id = row.ID
		members := make([]models.AudienceMember, 0, len(users)+len(groups))
		for _, u := range users {
			members = append(members, models.AudienceMember{AudienceID: id, UserID: &u.ID})
		}
		for _, g := range groups {
			members = append(members, models.AudienceMember{AudienceID: id, GroupID: &g.ID})
		}
		return tx.Omit("User", "Group").CreateInBatches(members, lookupChunk).Error
	})
	if err != nil {
		return 0, fmt.Errorf("store audience: %w", err)
	}
	return id, nil
}

// audienceRow is a row of audiences.
type audienceRow struct {
	ID        int64
	Digest    string
	CreatedAt time.Time
}

func (audienceRow) TableName() string { return "audiences" }

// audienceDigest names a set of users and groups, whatever their order.
func audienceDigest(users []models.User, groups []models.Group) string {
	ids := func(kind string, n int, id func(int) int64) []string {
		out := make([]string, n)
		for i := range n {
			out[i] = kind + strconv.FormatInt(id(i), 10)
		}
		slices.Sort(out)
		return out
	}
	entries := append(ids("u", len(users), func(i int) int64 { return users[i].ID }),
		ids("g", len(groups), func(i int) int64 { return groups[i].ID })...)
	sum := sha256.Sum256([]byte(strings.Join(entries, ",")))
	return hex.EncodeToString(sum[:])
}

// usersByEmail returns the users with these emails, in any letter case,
// each once, with their id, name and email alone; emails that match
// nobody are an *UnknownError naming them as given.
func usersByEmail(db *gorm.DB, emails []string) ([]models.User, error) {
	normal := make([]string, len(emails))
	for i, e := range emails {
		normal[i] = NormalizeEmail(e)
	}
	found := make(map[string]models.User, len(emails))
	for chunk := range slices.Chunk(uniq(normal), lookupChunk) {
		var us []models.User
		if err := db.Select("id", "name", "email").Where("lower(email) IN ?", chunk).Find(&us).Error; err != nil {
			return nil, err
		}
		for _, u := range us {
			found[NormalizeEmail(u.Email)] = u
		}
	}
	var unknown []string
	for i, e := range normal {
		if _, ok := found[e]; !ok {
			unknown = append(unknown, strings.TrimSpace(emails[i]))
		}
	}
	if len(unknown) > 0 {
		return nil, &UnknownError{Kind: "user", Names: uniq(unknown)}
	}
	users := slices.Collect(maps.Values(found))
	slices.SortFunc(users, func(a, b models.User) int { return cmp.Compare(a.ID, b.ID) })
	return users, nil
}
