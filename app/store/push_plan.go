package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"beacon/app/audience"
)

// pushLock is the PostgreSQL advisory lock under which one instance at a
// time moves the push cursor.
const pushLock = notificationsLock + 13

// planRow is a change of the feed as the push planner reads it.
type planRow struct {
	ID               int64
	Position         int64
	FirstPosition    int64
	AudiencePosition int64
	Scheduled        bool
	Withdrawn        bool
}

// PlanPushes moves the push cursor over up to limit changes of the feed,
// in position order, and records what each owes the devices (Web Push):
// a notification new since the cursor is owed, after delay, to every
// subscription of every user in its audience; a change to one (an edit, a
// withdrawal, a new audience) is owed at once to the devices that were
// shown it or are being sent it, and one readdressed is owed, after
// delay, to the devices of those who gained it. What each push says is
// decided when it is sent. Under pushLock and in one transaction with the
// cursor, each change is planned once, by one instance; positions commit
// in order, so none is passed over. It returns how many changes it read,
// and whether more may follow.
//
// Most looks find nothing new: those read one index entry and take no
// lock. Without any subscription the cursor moves to the end at once.
func (s *Store) PlanPushes(ctx context.Context, delay time.Duration, limit int) (read int, more bool, err error) {
	var behind bool
	err = s.db.WithContext(ctx).Raw(`SELECT CASE WHEN (SELECT COALESCE(MAX(position), 0) FROM notifications) >
		(SELECT position FROM push_cursor WHERE id = 1) THEN 1 ELSE 0 END`).Scan(&behind).Error
	if err != nil || !behind {
		return 0, false, wrap("plan pushes", err)
	}
	err = s.lockedTx(ctx, pushLock, func(tx *gorm.DB) error {
		var cursor int64
		if err := tx.Raw("SELECT position FROM push_cursor WHERE id = 1").Scan(&cursor).Error; err != nil {
			return err
		}
		// Nobody to push to: nothing up to now will ever be owed. One
		// statement, so that a subscription and then a notification
		// committed meanwhile are both seen or both not.
		res := tx.Exec(`UPDATE push_cursor SET position = (SELECT COALESCE(MAX(position), push_cursor.position) FROM notifications)
			WHERE id = 1 AND NOT EXISTS (SELECT 1 FROM push_subscriptions)`)
		if res.Error != nil || res.RowsAffected > 0 {
			return res.Error
		}
		var rows []planRow
		err := tx.Table("notifications").Select("id, position, first_position, audience_position, scheduled, withdrawn_at IS NOT NULL AS withdrawn").
			Where("position > ?", cursor).Order("position").Limit(limit).Scan(&rows).Error
		if err != nil || len(rows) == 0 {
			return err
		}
		read, more = len(rows), len(rows) == limit
		now := timestamp()
		var fresh, changed, gained []int64
		for _, r := range rows {
			switch {
			case r.Scheduled:
				// Not yet visible: it comes again at the position of its
				// delivery. The cursor moves past it all the same.
			case r.FirstPosition > cursor && r.Withdrawn:
				// Never shown anywhere: nothing to take back.
			case r.FirstPosition > cursor:
				fresh = append(fresh, r.ID)
			default:
				changed = append(changed, r.ID)
				if r.AudiencePosition > cursor && !r.Withdrawn {
					gained = append(gained, r.ID)
				}
			}
		}
		if err := owe(tx, changed, now); err != nil {
			return err
		}
		if err := oweAudience(tx, fresh, now, now.Add(delay)); err != nil {
			return err
		}
		if err := oweGained(tx, gained, cursor, now, now.Add(delay)); err != nil {
			return err
		}
		return tx.Exec("UPDATE push_cursor SET position = ? WHERE id = 1", rows[len(rows)-1].Position).Error
	})
	if err != nil {
		return 0, false, fmt.Errorf("plan pushes: %w", err)
	}
	return read, more, nil
}

// wrap is err with context, or nil.
func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// owe makes a push due now to every device that was shown one of ids, or
// is being sent it (its send would show the old state).
func owe(tx *gorm.DB, ids []int64, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	return tx.Exec(`UPDATE push_deliveries SET due_at = ?, seq = seq + 1, attempts = 0, failing_since = NULL, updated_at = ?
		WHERE notification_id IN ? AND (shown OR claimed_until > ?)`, now, now, ids, now).Error
}

// oweAudience makes a push due at due to every subscription of every user
// in the audience of each of ids who has none owed or shown of it yet.
// The audience is package audience's rule, with the subscription's user
// as the viewer.
func oweAudience(tx *gorm.DB, ids []int64, now, due time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	return tx.Exec(`INSERT INTO push_deliveries (subscription_id, notification_id, due_at, seq, updated_at)
		SELECT ps.id, n.id, ?, 1, ? FROM notifications n JOIN push_subscriptions ps ON `+audience.SQL("n", "ps.user_id")+`
		WHERE n.id IN ?
		ON CONFLICT (subscription_id, notification_id) DO NOTHING`, due, now, ids).Error
}

// oweGained makes a push due at due to every subscription of every user
// who gained one of ids by a change of audience after position cursor:
// in its audience now, and not in the one it had at cursor (kept by the
// first change after it, notification_audience_changes). Those who had
// it all along were planned for when it was new.
func oweGained(tx *gorm.DB, ids []int64, cursor int64, now, due time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	return tx.Exec(`INSERT INTO push_deliveries (subscription_id, notification_id, due_at, seq, updated_at)
		SELECT ps.id, n.id, ?, 1, ? FROM notifications n
		JOIN notification_audience_changes was ON was.notification_id = n.id AND was.position =
			(SELECT MIN(c.position) FROM notification_audience_changes c WHERE c.notification_id = n.id AND c.position > ?)
		JOIN push_subscriptions ps ON `+audience.SQL("n", "ps.user_id")+` AND NOT `+audience.SQL("was", "ps.user_id")+`
		WHERE n.id IN ?
		ON CONFLICT (subscription_id, notification_id) DO NOTHING`, due, now, cursor, ids).Error
}
