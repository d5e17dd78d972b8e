// Package audience decides who may see a notification. The rule is written
// once, below, twice over: as a Go check for the hub and the resume window,
// and as SQL for the store's queries. The two sit side by side so that a
// change to one is a change to both; audience_test.go checks that they
// agree, on SQLite and PostgreSQL.
package audience

import (
	"database/sql"
	"strconv"
	"strings"

	"beacon/app/models"
)

// Viewer is who is looking: a signed-in user with the groups they are in,
// or a visitor (UserID 0).
type Viewer struct {
	UserID int64
	Groups []int64 // sorted, as store.GroupIDsOf returns them
}

// User is the viewer signed in as user id (0: a visitor), in no group.
func User(id int64) Viewer { return Viewer{UserID: id} }

// Member is the viewer signed in as user id, in groups (sorted).
func Member(id int64, groups []int64) Viewer { return Viewer{UserID: id, Groups: groups} }

// Audience is who a notification is for, taken from it once (Of) so that
// a check against many viewers is a couple of integer compares, or for a
// list of users and groups a map lookup and a walk of the viewer's groups.
type Audience struct {
	recipient int64 // 0: everyone, visitors included, unless list is set
	list      *list // set: the users and groups it is addressed to
}

type list struct {
	users  map[int64]struct{}
	groups map[int64]struct{}
}

// Everyone is the audience of a broadcast, and of the stream's heartbeat.
var Everyone = Audience{}

// Of is n's audience; for one addressed to a list, n's Addressees must be
// loaded (the store's change feeds load them).
func Of(n models.Notification) Audience {
	switch {
	case n.AudienceID != nil:
		l := &list{users: map[int64]struct{}{}, groups: map[int64]struct{}{}}
		for _, m := range n.Addressees {
			if m.UserID != nil {
				l.users[*m.UserID] = struct{}{}
			} else if m.GroupID != nil {
				l.groups[*m.GroupID] = struct{}{}
			}
		}
		return Audience{list: l}
	case n.RecipientID != nil:
		return Audience{recipient: *n.RecipientID}
	default:
		return Everyone
	}
}

// The rule. A viewer sees a notification when one of these holds:
//  1. it is for everyone;
//  2. it is addressed to the viewer alone (recipient);
//  3. it is addressed to a list that names the viewer, or a group the
//     viewer is in now.
// Sees and Branches say the same, term for term, in Go and in SQL.

// Sees reports whether v may see a notification with this audience. It is
// the hub's check per connection: it must stay cheap.
func (a Audience) Sees(v Viewer) bool {
	if a.list == nil {
		return a.recipient == 0 || // 1
			a.recipient == v.UserID // 2 (user ids start at 1: never a visitor)
	}
	return a.list.sees(v) // 3
}

func (l *list) sees(v Viewer) bool {
	if v.UserID == 0 {
		return false
	}
	if _, ok := l.users[v.UserID]; ok {
		return true
	}
	for _, g := range v.Groups {
		if _, ok := l.groups[g]; ok {
			return true
		}
	}
	return false
}

// Branches are the rule's terms as SQL conditions on the notifications row
// n (a table name or alias), for the viewer whose user id is the SQL
// expression viewer: a column ("u.id") or a parameter ("@viewer"); ""
// stands for a visitor, who meets no term about a user (an OR that can
// never hold there still cost SQLite the index, 60× on the feed page).
// No notification meets two terms, and each is a range on the index
// notifications_live_audience_first (recipient_id, audience_id,
// first_position), so a count may count each branch on its index and add
// them up: the unread count does, where one OR made both databases leave
// that index. Term 3 reads the viewer's groups from group_members: the
// rule follows membership as it is when the query runs.
func Branches(n, viewer string) []string {
	b := []string{"(" + n + ".recipient_id IS NULL AND " + n + ".audience_id IS NULL)"} // 1
	if viewer != "" {
		b = append(b,
			"("+n+".recipient_id = "+viewer+" AND "+n+".audience_id IS NULL)",                 // 2
			"("+n+".recipient_id IS NULL AND "+n+".audience_id IN ("+AudiencesOf(viewer)+"))") // 3
	}
	return b
}

// AudiencesOf is term 3's list as a query: the audiences that name the
// viewer, or a group the viewer is in now.
func AudiencesOf(viewer string) string {
	return "SELECT am.audience_id FROM audience_members am WHERE am.user_id = " + viewer +
		" UNION SELECT am.audience_id FROM audience_members am JOIN group_members gm ON gm.group_id = am.group_id" +
		" WHERE gm.user_id = " + viewer
}

// BranchesIn are Branches for a signed-in viewer whose audiences
// (AudiencesOf) were read first: term 3 as a list of numbers, which a
// planner can weigh (none: no term 3). A query that walks an index in
// order and stops at a limit needs it: with the subquery PostgreSQL walked
// all 100,000 rows looking for a member's audience that had none.
func BranchesIn(n string, viewer int64, audiences []int64) []string {
	v := strconv.FormatInt(viewer, 10)
	b := Branches(n, v)[:2]
	if len(audiences) > 0 {
		list := make([]string, len(audiences))
		for i, a := range audiences {
			list[i] = strconv.FormatInt(a, 10)
		}
		b = append(b, "("+n+".recipient_id IS NULL AND "+n+".audience_id IN ("+strings.Join(list, ", ")+"))") // 3
	}
	return b
}

// SQL is the rule as one condition: any of Branches.
func SQL(n, viewer string) string {
	return "(" + strings.Join(Branches(n, viewer), " OR ") + ")"
}

// Where is the rule for one viewer, as a condition on n and its arguments,
// for a query that takes them (GORM's Where).
func Where(n string, v Viewer) (string, []any) {
	if v.UserID == 0 {
		return SQL(n, ""), nil
	}
	return SQL(n, "@viewer"), []any{sql.Named("viewer", v.UserID)}
}
