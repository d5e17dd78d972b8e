// Package audience decides who may see a notification. The rule is written
// once, below, twice over: as a Go check for the hub and the resume window,
// and as SQL for the store's queries. The two sit side by side so that a
// change to one is a change to both; audience_test.go checks that they
// agree, on SQLite and PostgreSQL.
package audience

import (
	"database/sql"
	"strings"

	"beacon/app/models"
)

// Viewer is who is looking: a signed-in user, or a visitor (UserID 0).
type Viewer struct {
	UserID int64
}

// User is the viewer signed in as user id (0: a visitor).
func User(id int64) Viewer { return Viewer{UserID: id} }

// Audience is who a notification is for, taken from it once (Of) so that
// a check against many viewers is a couple of integer compares.
type Audience struct {
	recipient int64 // 0: everyone, visitors included
}

// Everyone is the audience of a broadcast, and of the stream's heartbeat.
var Everyone = Audience{}

// Of is n's audience.
func Of(n models.Notification) Audience {
	if n.RecipientID == nil {
		return Everyone
	}
	return Audience{recipient: *n.RecipientID}
}

// The rule. A viewer sees a notification when one of these holds:
//  1. it is for everyone;
//  2. it is addressed to the viewer.
// Sees and Branches say the same, term for term, in Go and in SQL.

// Sees reports whether v may see a notification with this audience. It is
// the hub's check per connection: it must stay cheap and inlinable.
func (a Audience) Sees(v Viewer) bool {
	return a.recipient == 0 || // 1
		a.recipient == v.UserID // 2 (user ids start at 1: never a visitor)
}

// Branches are the rule's terms as SQL conditions on the notifications row
// n (a table name or alias), for the viewer whose user id is the SQL
// expression viewer: a column ("u.id") or a parameter ("@viewer"); ""
// stands for a visitor, who meets no term about a user (an OR that can
// never hold there still cost SQLite the index, 60× on the feed page).
// No notification meets two terms, and each is a range on the index
// notifications_live_recipient_first (recipient_id, first_position), so a
// count may count each branch on its index and add them up: the unread
// count does, where one OR made both databases leave that index.
func Branches(n, viewer string) []string {
	b := []string{n + ".recipient_id IS NULL"} // 1
	if viewer != "" {
		b = append(b, n+".recipient_id = "+viewer) // 2
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
