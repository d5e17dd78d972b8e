package store

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"beacon/app/audience"
	"beacon/app/models"
	"beacon/migrations"
)

// Read state has three parts: users.read_through_id, at or below which
// everything is read (moved by "mark all", one write); notification_reads,
// the single reads above it; and notification_unreads, the single
// "mark unread"s at or below it. Both go by first_position,
// when a notification became visible, not by its id: a scheduled one is
// newer than everything posted before it fell due. A broadcast is unread
// for a user until one of them covers it; posting one never writes a row
// per user. (read_through_id is named from before positions; it holds a
// first_position.)

// NoLimit is the "through" to pass for "every notification so far".
const NoLimit int64 = math.MaxInt64

// unreadCountSQL counts what a user may see with a first_position in
// (read_through_id, through], less their reads in that range. Each part is
// a range on an index: the partial notifications_live_recipient_first
// (recipient_id, first_position) over delivered, not withdrawn
// notifications, once per branch of the visibility rule (sumOverAudience),
// and notification_reads_user_first_position. Reads carry their
// notification's first_position, and withdrawing deletes them; a read
// counts only while the user sees its notification (they may have left its
// group, or it was readdressed), one lookup by id per read past the
// watermark. Marked unread below the watermark counts again, with the
// same lookup.
var unreadCountSQL = `
SELECT ` + sumOverAudience(`SELECT COUNT(*) FROM notifications n
     WHERE %s AND n.first_position > u.read_through_id AND n.first_position <= @through
       AND n.withdrawn_at IS NULL AND NOT n.scheduled`) + `
- (SELECT COUNT(*) FROM notification_reads r JOIN notifications n ON n.id = r.notification_id
     WHERE r.user_id = u.id AND r.first_position > u.read_through_id AND r.first_position <= @through
       AND ` + audience.SQL("n", "u.id") + `)
+ (SELECT COUNT(*) FROM notification_unreads x JOIN notifications n ON n.id = x.notification_id
     WHERE x.user_id = u.id AND x.first_position <= u.read_through_id AND x.first_position <= @through
       AND n.withdrawn_at IS NULL AND NOT n.scheduled AND ` + audience.SQL("n", "u.id") + `)
FROM users u WHERE u.id = @user`

// sumOverAudience adds up count, a query on notifications n and users u
// with %s where the visibility rule goes, once per branch of the rule for
// the viewer u (audience.Branches): one OR made both databases leave the
// index each branch is a range on, and no notification meets two branches.
func sumOverAudience(count string) string {
	var terms []string
	for _, b := range audience.Branches("n", "u.id") {
		terms = append(terms, "("+fmt.Sprintf(count, b)+")")
	}
	return "(" + strings.Join(terms, "\n  + ") + ")"
}

// UnreadCount is how many notifications the user may see that became
// visible at or before stream position through are unread. A stream
// passes the last position it sent, so that the count and the
// notifications it sends afterwards add up.
func (s *Store) UnreadCount(ctx context.Context, userID, through int64) (int64, error) {
	var n int64
	res := s.db.WithContext(ctx).Raw(unreadCountSQL,
		map[string]any{"user": userID, "through": through}).Scan(&n)
	if res.Error != nil {
		return 0, fmt.Errorf("unread count for user %d: %w", userID, res.Error)
	}
	if res.RowsAffected == 0 {
		return 0, fmt.Errorf("unread count for user %d: %w", userID, ErrNotFound)
	}
	return n, nil
}

// MarkRead marks one notification, by id, read for the user. It returns
// ErrNotFound when there is no such notification, it is someone else's,
// withdrawn or not yet delivered, so that a guess cannot tell them apart.
func (s *Store) MarkRead(ctx context.Context, userID, notificationID int64) error {
	if err := s.setRead(ctx, userID, notificationID, true); err != nil {
		return fmt.Errorf("mark notification %d read for user %d: %w", notificationID, userID, err)
	}
	return nil
}

// MarkUnread marks one notification, by id, unread for the user, with
// MarkRead's ErrNotFound.
func (s *Store) MarkUnread(ctx context.Context, userID, notificationID int64) error {
	if err := s.setRead(ctx, userID, notificationID, false); err != nil {
		return fmt.Errorf("mark notification %d unread for user %d: %w", notificationID, userID, err)
	}
	return nil
}

// setRead records one notification's read state for the user, and the
// change, when it is one, for their streams. Above the watermark a read
// is a notification_reads row; at or below it, unread is a
// notification_unreads row.
func (s *Store) setRead(ctx context.Context, userID, notificationID int64, read bool) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		watermark, err := s.lockUser(tx, userID)
		if err != nil {
			return err
		}
		q := tx.Scopes(visibleTo(userID), live)
		if s.dialect == migrations.Postgres {
			// Held until commit: a withdrawal (which deletes the reads)
			// waits for us, or we see it withdrawn; no read outlives it.
			q = q.Clauses(clause.Locking{Strength: "SHARE"})
		}
		var n models.Notification
		if err := q.Select("id", "first_position").Where("id = ?", notificationID).Take(&n).Error; err != nil {
			return notFound(err)
		}
		key := "user_id = ? AND notification_id = ?"
		var res *gorm.DB
		switch covered := n.FirstPosition <= watermark; {
		case covered && read:
			res = tx.Where(key, userID, notificationID).Delete(&models.NotificationUnread{})
		case covered:
			res = tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&models.NotificationUnread{
				UserID: userID, NotificationID: notificationID, FirstPosition: n.FirstPosition})
		case read:
			res = tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&models.NotificationRead{
				UserID: userID, NotificationID: notificationID, FirstPosition: n.FirstPosition, ReadAt: time.Now().UTC()})
		default:
			res = tx.Where(key, userID, notificationID).Delete(&models.NotificationRead{})
		}
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error // no change: nothing to tell the streams
		}
		return s.recordState(tx, models.StateChange{UserID: userID, Kind: models.StateRead, NotificationID: notificationID, Value: read})
	})
}

// MarkAllRead marks every notification that became visible at or before
// stream position through read for the user. through is capped at the
// newest position, so that what becomes visible later (a new post, or a
// scheduled one falling due) stays unread. The page passes the newest
// first_position it showed: what arrived since stays unread.
func (s *Store) MarkAllRead(ctx context.Context, userID, through int64) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		watermark, err := s.lockUser(tx, userID)
		if err != nil {
			return err
		}
		// Every later delivery takes a position past this one (positions
		// commit in order), and MAX(position) is one step on its index.
		var last int64
		if err := tx.Model(&models.Notification{}).Select("COALESCE(MAX(position), 0)").Scan(&last).Error; err != nil {
			return err
		}
		through = min(through, last)
		changed := false
		if through > watermark {
			if err := tx.Model(&models.User{}).Where("id = ?", userID).Update("read_through_id", through).Error; err != nil {
				return err
			}
			// Single reads below the watermark say nothing more; dropping
			// them keeps the table to reads above it.
			if err := s.deleteReads(tx, "user_id = ? AND first_position <= ?", userID, through); err != nil {
				return err
			}
			changed = true
		}
		// Marked unread since an earlier "mark all": read now.
		res := tx.Where("user_id = ? AND first_position <= ?", userID, through).Delete(&models.NotificationUnread{})
		if res.Error != nil {
			return res.Error
		}
		if !changed && res.RowsAffected == 0 {
			return nil
		}
		return s.recordState(tx, models.StateChange{UserID: userID, Kind: models.StateAllRead, Value: true, Through: through})
	})
	if err != nil {
		return fmt.Errorf("mark notifications through position %d read for user %d: %w", through, userID, err)
	}
	return nil
}

// readSQL is the read rule as SQL, for a notification n and a user u
// (aliases of notifications and users): the watermark covers it and it
// was not marked unread since, or it has a single read. ReadNotificationIDs,
// NotificationStates and Web Push's claim all ask it.
func readSQL(n, u string) string {
	return "(" + n + ".first_position <= " + u + ".read_through_id AND NOT EXISTS (SELECT 1 FROM notification_unreads x" +
		" WHERE x.user_id = " + u + ".id AND x.notification_id = " + n + ".id)" +
		" OR EXISTS (SELECT 1 FROM notification_reads r WHERE r.user_id = " + u + ".id AND r.notification_id = " + n + ".id))"
}

// ReadNotificationIDs returns which of the notifications ids the user has
// read (readSQL).
func (s *Store) ReadNotificationIDs(ctx context.Context, userID int64, ids []int64) (map[int64]bool, error) {
	read := make(map[int64]bool, len(ids))
	if len(ids) == 0 {
		return read, nil
	}
	var found []int64
	err := s.db.WithContext(ctx).Raw(`SELECT n.id FROM notifications n JOIN users u ON u.id = ?
		WHERE n.id IN ? AND NOT n.scheduled AND `+readSQL("n", "u"), userID, ids).Scan(&found).Error
	if err != nil {
		return nil, fmt.Errorf("read state for user %d: %w", userID, err)
	}
	for _, id := range found {
		read[id] = true
	}
	return read, nil
}

// readByRow is one notification's read count.
type readByRow struct {
	ID     int64
	ReadBy int64
}

// readBySQL counts, per notification, the users who have read it: those
// who may see it (only its recipient, for a targeted one) and whose
// watermark covers its first_position, and those with a single read above
// their watermark. A scheduled one (first_position 0) has been read by
// nobody.
var readBySQL = `
SELECT n.id AS id,
  CASE WHEN n.scheduled THEN 0
    ELSE ` + sumOverAudience(`SELECT COUNT(*) FROM users u WHERE %s AND u.read_through_id >= n.first_position`) + `
  END
  + (SELECT COUNT(*) FROM notification_reads r JOIN users u ON u.id = r.user_id
       WHERE r.notification_id = n.id AND u.read_through_id < r.first_position)
  - (SELECT COUNT(*) FROM notification_unreads x JOIN users u ON u.id = x.user_id
       WHERE x.notification_id = n.id AND u.read_through_id >= x.first_position AND ` + audience.SQL("n", "u.id") + `) AS read_by
FROM notifications n WHERE n.id IN ?`

// fillReadBy sets ReadBy on each of ns.
func (s *Store) fillReadBy(ctx context.Context, ns []models.Notification) error {
	if len(ns) == 0 {
		return nil
	}
	ids := make([]int64, len(ns))
	for i, n := range ns {
		ids[i] = n.ID
	}
	var rows []readByRow
	if err := s.db.WithContext(ctx).Raw(readBySQL, ids).Scan(&rows).Error; err != nil {
		return fmt.Errorf("read counts: %w", err)
	}
	counts := make(map[int64]int64, len(rows))
	for _, r := range rows {
		counts[r.ID] = r.ReadBy
	}
	for i := range ns {
		ns[i].ReadBy = counts[ns[i].ID]
	}
	return nil
}
