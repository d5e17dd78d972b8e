package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"beacon/app/audience"
	"beacon/app/models"
	"beacon/migrations"
)

// FeedFilter narrows a page of the feed; the zero value is its first,
// unfiltered page.
type FeedFilter struct {
	// Before keeps those that became visible before this position
	// (FirstPosition < Before): the next page after one whose oldest is
	// there. 0: from the newest.
	Before int64
	// Level keeps one level; "" any.
	Level string
	// Q keeps those whose title or body holds it, in any case (on SQLite
	// any ASCII case); "" any.
	Q string
	// Archived shows the user's archive instead of the rest (a visitor
	// has none).
	Archived bool
}

// FeedPage returns up to limit live notifications user userID (0: a
// visitor) may see, newest first in the order they became visible, as f
// narrows them. Paging by FirstPosition, not by offset: a page reads the
// same rows however many arrived since the one before it, and none is
// skipped or shown twice.
func (s *Store) FeedPage(ctx context.Context, userID int64, f FeedFilter, limit int) ([]models.Notification, error) {
	// Each branch of the rule on its own, newest first, limit each, then
	// the newest limit of them all: each branch walks its index range
	// (notifications_live_audience_first) from the top and stops at limit
	// rows; one OR made both databases read every row the user may see
	// and sort them (70 ms on SQLite for 90,000).
	cond, args := "n.withdrawn_at IS NULL AND NOT n.scheduled", []any{}
	if f.Before > 0 {
		cond += " AND n.first_position < ?"
		args = append(args, f.Before)
	}
	if f.Level != "" {
		cond += " AND n.level = ?"
		args = append(args, f.Level)
	}
	if f.Q != "" {
		pattern := "%" + escapeLike(f.Q) + "%"
		if s.dialect == migrations.Postgres {
			// The expression of the trigram index (migration 00021).
			cond += ` AND (n.title || chr(31) || n.body) ILIKE ? ESCAPE '\'`
			args = append(args, pattern)
		} else {
			cond += ` AND (n.title LIKE ? ESCAPE '\' OR n.body LIKE ? ESCAPE '\')`
			args = append(args, pattern, pattern)
		}
	}
	branches := audience.Branches("n", "") // a visitor meets only the first
	if userID != 0 {
		var audiences []int64
		err := s.db.WithContext(ctx).Raw(audience.AudiencesOf(strconv.FormatInt(userID, 10))).Scan(&audiences).Error
		if err != nil {
			return nil, fmt.Errorf("feed page %+v for user %d: %w", f, userID, err)
		}
		branches = audience.BranchesIn("n", userID, audiences)
		in := "NOT EXISTS"
		if f.Archived {
			in = "EXISTS"
		}
		cond += " AND " + in + " (SELECT 1 FROM notification_archives a WHERE a.user_id = " + strconv.FormatInt(userID, 10) +
			" AND a.notification_id = n.id)"
	} else if f.Archived {
		return []models.Notification{}, nil
	}
	order := "n.first_position"
	if f.Q != "" {
		// A search on PostgreSQL is served by the trigram index, then
		// sorted: walking the broadcasts newest first, as the planner
		// otherwise chose, read all 100,000 for a text in none (55 ms
		// against 0.5).
		order = "n.first_position + 0"
	}
	var arms []string
	var all []any
	if f.Q != "" && s.dialect != migrations.Postgres {
		// SQLite has no index for a text, and reads every row the user may
		// see: once, in the table's order, with the rule's branches ORed,
		// 14–17 ms for 100,000; per branch along the position's index, a
		// lookup per row, 27 ms for a text in none.
		arms = append(arms, fmt.Sprintf("SELECT n.id, n.first_position FROM notifications n NOT INDEXED WHERE (%s) AND %s", strings.Join(branches, " OR "), cond))
		all = args
		branches = nil
	}
	for i, b := range branches {
		arms = append(arms, fmt.Sprintf("SELECT id, first_position FROM (SELECT n.id, n.first_position FROM notifications n WHERE %s AND %s ORDER BY %s DESC LIMIT ?) b%d", b, cond, order, i))
		all = append(append(all, args...), limit)
	}
	var ids []int64
	err := s.db.WithContext(ctx).Raw("SELECT id FROM ("+strings.Join(arms, " UNION ALL ")+") page ORDER BY first_position DESC LIMIT ?",
		append(all, limit)...).Scan(&ids).Error
	if err != nil {
		return nil, fmt.Errorf("feed page %+v for user %d: %w", f, userID, err)
	}
	ns := []models.Notification{}
	if len(ids) == 0 {
		return ns, nil
	}
	if err := s.db.WithContext(ctx).Scopes(withAudienceFor(userID), live).Where("id IN ?", ids).Order("first_position DESC").Find(&ns).Error; err != nil {
		return nil, fmt.Errorf("feed page %+v for user %d: %w", f, userID, err)
	}
	return ns, nil
}

// escapeLike makes s match itself in a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
