package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"beacon/app/models"
)

// ErrAlreadyDelivered is returned for a deliver_at on a notification that
// was already delivered: it cannot be taken back to scheduled.
var ErrAlreadyDelivered = errors.New("already delivered")

// ErrKeyTaken is returned for an edit that would give a notification's key
// to an audience where a live notification already has it.
var ErrKeyTaken = errors.New("key taken in that audience")

// NotificationPatch is an edit; nil fields stay as they are.
type NotificationPatch struct {
	Title, Body, Level *string
	// URL, when set, is the new click target; "" clears it.
	URL *string
	// DeliverAt reschedules a notification that is still scheduled; a
	// time not in the future delivers it now.
	DeliverAt *time.Time
	// To, when set, addresses it anew (Store.Address): those it is no
	// longer for lose it, those it is newly for gain it.
	To *Addressed
}

func (p NotificationPatch) empty() bool {
	return p.Title == nil && p.Body == nil && p.Level == nil && p.URL == nil && p.DeliverAt == nil && p.To == nil
}

// CreateOrReplaceNotification stores n and sets its ID, which is also its
// first stream position, unless n has a Key that a live (not withdrawn)
// notification for the same recipient holds: that one then keeps its id,
// takes n's title, body and level, moves to a new position, and n is
// filled with its new state (replaced is true). Read state stays with the
// id. A DeliverAt in the future makes it scheduled (see DeliverDue); a
// scheduled one it replaces takes n's DeliverAt (nil: now); a delivered
// one cannot be scheduled again (ErrAlreadyDelivered).
//
// When it returns, the row is committed, and so is every row with a
// smaller position: readers that follow positions never skip one that
// commits late. SQLite gets that from its single writer; PostgreSQL
// assigns sequence values before commit, so every write that takes a
// position holds a transaction-scoped lock there (positionedTx).
func (s *Store) CreateOrReplaceNotification(ctx context.Context, n *models.Notification) (replaced bool, err error) {
	if n.Key == nil || *n.Key == "" {
		if err := s.insertGrouped(ctx, n); err != nil {
			return false, fmt.Errorf("create or replace notification %q: %w", n.Title, err)
		}
		return false, nil
	}
	err = s.positionedTx(ctx, func(tx *gorm.DB) error {
		var err error
		replaced, err = s.createOrReplace(tx, n, timestamp())
		return err
	})
	if err != nil {
		return false, fmt.Errorf("create or replace notification %q: %w", n.Title, err)
	}
	return replaced, nil
}

// createOrReplace is CreateOrReplaceNotification inside a locked
// transaction.
func (s *Store) createOrReplace(tx *gorm.DB, n *models.Notification, now time.Time) (replaced bool, err error) {
	if n.Key == nil || *n.Key == "" {
		return false, s.insertNotification(tx, n, now)
	}
	var old models.Notification
	if err := liveWithKey(tx, *n.Key, n.RecipientID, n.AudienceID).Take(&old).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return false, s.insertNotification(tx, n, now)
	} else if err != nil {
		return false, err
	}
	scheduled := n.DeliverAt != nil && n.DeliverAt.After(now)
	if scheduled && !old.Scheduled {
		return false, ErrAlreadyDelivered
	}
	pos, err := s.nextPosition(tx)
	if err != nil {
		return false, err
	}
	set := map[string]any{"title": n.Title, "body": n.Body, "level": n.Level, "url": n.URL, "position": pos, "updated_at": now}
	if old.Scheduled {
		set["deliver_at"], set["scheduled"], set["first_position"] = utcPtr(n.DeliverAt), scheduled, pos
		if scheduled {
			set["first_position"] = 0
		}
	}
	if err := tx.Model(&models.Notification{}).Where("id = ?", old.ID).Updates(set).Error; err != nil {
		return false, err
	}
	recipient, addressees := n.Recipient, n.Addressees
	*n = models.Notification{}
	if err := tx.Take(n, old.ID).Error; err != nil {
		return false, err
	}
	n.Recipient, n.Addressees = recipient, addressees
	return true, nil
}

// UpdateNotification applies p to notification id, moves it to a new
// position and returns its new state. ErrNotFound when there is none or
// it is withdrawn; a DeliverAt for one already delivered is
// ErrAlreadyDelivered. An empty patch changes nothing.
func (s *Store) UpdateNotification(ctx context.Context, id int64, p NotificationPatch) (models.Notification, error) {
	var n models.Notification
	err := s.lockedTx(ctx, notificationsLock, func(tx *gorm.DB) error {
		if err := tx.Where("id = ? AND withdrawn_at IS NULL", id).Take(&n).Error; err != nil {
			return notFound(err)
		}
		if p.empty() {
			return nil
		}
		now := timestamp()
		pos, err := s.nextPosition(tx)
		if err != nil {
			return err
		}
		set := map[string]any{"position": pos, "updated_at": now}
		for col, v := range map[string]*string{"title": p.Title, "body": p.Body, "level": p.Level} {
			if v != nil {
				set[col] = *v
			}
		}
		if p.URL != nil {
			set["url"] = nullable(*p.URL)
		}
		if p.DeliverAt != nil {
			if !n.Scheduled {
				return ErrAlreadyDelivered
			}
			set["deliver_at"] = utcPtr(p.DeliverAt)
			if !p.DeliverAt.After(now) {
				set["scheduled"], set["first_position"] = false, pos
			}
		}
		if p.To != nil && !sameAudience(n, *p.To) {
			if err := readdress(tx, n, *p.To, pos, set); err != nil {
				return err
			}
		}
		if err := tx.Model(&models.Notification{}).Where("id = ?", id).Updates(set).Error; err != nil {
			return err
		}
		n = models.Notification{}
		return tx.Scopes(withAudience).Take(&n, id).Error
	})
	if err != nil {
		return models.Notification{}, fmt.Errorf("update notification %d: %w", id, err)
	}
	return n, nil
}

// nullable is s, or NULL for "".
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// liveWithKey limits q to the live notification with key in the audience
// of recipientID and audienceID (both nil: everyone).
func liveWithKey(q *gorm.DB, key string, recipientID, audienceID *int64) *gorm.DB {
	q = q.Where(`"key" = ? AND withdrawn_at IS NULL`, key)
	if recipientID == nil {
		q = q.Where("recipient_id IS NULL")
	} else {
		q = q.Where("recipient_id = ?", *recipientID)
	}
	if audienceID == nil {
		return q.Where("audience_id IS NULL")
	}
	return q.Where("audience_id = ?", *audienceID)
}

// sameAudience reports whether n is addressed as a is.
func sameAudience(n models.Notification, a Addressed) bool {
	eq := func(x, y *int64) bool { return x == nil && y == nil || x != nil && y != nil && *x == *y }
	return eq(n.RecipientID, a.RecipientID) && eq(n.AudienceID, a.AudienceID)
}

// readdress adds to set, the columns an edit at position pos changes, n's
// new audience a; for a delivered notification it keeps the audience it
// had before, at pos, for the streams and lists that must tell who lost
// it (package audience, AsOf). A scheduled one was seen by no one yet.
// Its key must stay unique among the live notifications of a.
func readdress(tx *gorm.DB, n models.Notification, a Addressed, pos int64, set map[string]any) error {
	if n.Key != nil {
		var taken int64
		err := liveWithKey(tx.Model(&models.Notification{}), *n.Key, a.RecipientID, a.AudienceID).Count(&taken).Error
		if err != nil {
			return err
		}
		if taken > 0 {
			return ErrKeyTaken
		}
	}
	set["recipient_id"], set["audience_id"] = a.RecipientID, a.AudienceID
	if n.Scheduled {
		return nil
	}
	set["audience_position"] = pos
	return tx.Create(&models.AudienceChange{NotificationID: n.ID, Position: pos,
		RecipientID: n.RecipientID, AudienceID: n.AudienceID}).Error
}

// WithdrawNotification withdraws notification id: it moves to a new
// position with WithdrawnAt set, leaves every feed, list and unread count,
// and frees its key. ErrNotFound when there is none or it already is.
func (s *Store) WithdrawNotification(ctx context.Context, id int64) (models.Notification, error) {
	var n models.Notification
	err := s.lockedTx(ctx, notificationsLock, func(tx *gorm.DB) error {
		if err := tx.Where("id = ? AND withdrawn_at IS NULL", id).Take(&n).Error; err != nil {
			return notFound(err)
		}
		pos, err := s.nextPosition(tx)
		if err != nil {
			return err
		}
		now := timestamp()
		err = tx.Model(&models.Notification{}).Where("id = ?", id).
			Updates(map[string]any{"position": pos, "withdrawn_at": now, "updated_at": now}).Error
		if err != nil {
			return err
		}
		// The unread count subtracts single reads without looking at the
		// notification (it stays on two index ranges): a withdrawn one's
		// reads must go with it.
		if err := tx.Where("notification_id = ?", id).Delete(&models.NotificationRead{}).Error; err != nil {
			return err
		}
		n = models.Notification{}
		return tx.Scopes(withAudience).Take(&n, id).Error
	})
	if err != nil {
		return models.Notification{}, fmt.Errorf("withdraw notification %d: %w", id, err)
	}
	return n, nil
}

// changedAfter limits a query to the changes a client at position after
// has not had: delivered notifications whose latest position is past it,
// less withdrawn ones it never saw (nothing to take back).
func changedAfter(after int64) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		return db.Where("position > ? AND NOT scheduled", after).
			Where("withdrawn_at IS NULL OR first_position <= ?", after)
	}
}

// ChangesAfter returns up to limit notifications user userID (0: a
// visitor) may see that changed after stream position after, each once in
// its latest state, in position order: ListAfter's Changes.
func (s *Store) ChangesAfter(ctx context.Context, userID, after int64, limit int) ([]models.Notification, error) {
	r, err := s.ListAfter(ctx, userID, after, limit)
	return r.Changes, err
}

// ListAfter is a page of the list API and the long poll: up to limit
// notifications user userID (0: a visitor) may see that changed after
// stream position after, each once in its latest state, in position order,
// and those they lost since (a change of audience) as withdrawn. For each,
// NewAfter(after) tells a first delivery (`notification`) from a change
// (`update`, or `withdraw` when Withdrawn()). Withdrawn ones new to after
// are left out. Through is the position of the last one (after when
// there is none); a page is short only when nothing follows it.
func (s *Store) ListAfter(ctx context.Context, userID, after int64, limit int) (models.Replay, error) {
	page, whole, err := s.listAfter(ctx, s.db, userID, after, limit, false)
	if err != nil || whole {
		return page, err
	}
	// It takes more queries: read it again, all of it in one snapshot.
	// Else a notification the first query read in one state, and changed
	// before the next, which by then leaves it out (withdrawn, or lost to
	// this user, and new to after), would stand in the page as it was,
	// though the page goes past its change: the client would keep it.
	err = s.snapshot(ctx, func(db *gorm.DB) error {
		page, _, err = s.listAfter(ctx, db, userID, after, limit, true)
		return err
	})
	return page, err
}

// listAfter reads ListAfter's page on db. Ones this user never had and does
// not see now are read, and left out: it reads on until the page is full,
// or, unless all, reports after its first query that the page is not whole.
func (s *Store) listAfter(ctx context.Context, db *gorm.DB, userID, after int64, limit int, all bool) (page models.Replay, whole bool, err error) {
	page = models.Replay{Through: after}
	for from := after; ; {
		r, err := s.changesAfter(ctx, db, userID, after, from, limit, false)
		if err != nil {
			return models.Replay{}, false, fmt.Errorf("changes after %d for user %d: %w", after, userID, err)
		}
		for _, n := range r.Changes {
			if len(page.Changes) == limit {
				page.More = true
				return page, true, nil
			}
			page.Changes = append(page.Changes, n)
			page.Through = n.Position
		}
		switch {
		case !r.More:
			return page, true, nil
		case len(page.Changes) == limit:
			page.More = true
			return page, true, nil
		case !all:
			return page, false, nil
		}
		from = r.Through
	}
}

// ReplayAfter is a stream's replay of at most limit changes: ListAfter,
// with the withdrawals of ones new to after read and counted in Through
// (see models.Replay: a withdrawal committed after the replay's other
// reads but before this one must not reach the client live as news of a
// notification it never had), and a readdressed one as the events that
// tell the user of it (audience.Timeline.Told): Changes then holds it more
// than once, each event's id where it happened.
func (s *Store) ReplayAfter(ctx context.Context, userID, after int64, limit int) (models.Replay, error) {
	r, err := s.changesAfter(ctx, s.db, userID, after, after, limit, true)
	if err != nil {
		return models.Replay{}, fmt.Errorf("replay after %d for user %d: %w", after, userID, err)
	}
	return r, nil
}

// changesAfter is the one query of ListAfter and ReplayAfter: up to limit
// changes past position from, as user userID, whose client had every
// change up to position after, is to be told of them. Through is the
// position of the last one read. A stream's replay reads the withdrawals
// of ones new to after too (for Through) and tells a readdressed one as
// events; a list leaves those withdrawals out in the query and tells each
// once.
func (s *Store) changesAfter(ctx context.Context, db *gorm.DB, userID, after, from int64, limit int, stream bool) (models.Replay, error) {
	q := db.WithContext(ctx).Scopes(withAudienceFor(userID), visibleOrLostTo(userID, after)).Where("position > ?", from)
	if stream {
		q = q.Where("position > ? AND NOT scheduled", after)
	} else {
		q = q.Scopes(changedAfter(after))
	}
	// One row more than limit tells "more" from "exactly limit".
	var rows []models.Notification
	if err := q.Order("position").Limit(limit + 1).Find(&rows).Error; err != nil {
		return models.Replay{}, err
	}
	r := models.Replay{More: len(rows) > limit}
	if r.More {
		rows = rows[:limit]
	}
	if len(rows) > 0 {
		r.Through = rows[len(rows)-1].Position // in position order: the last is the greatest
	}
	changes, err := s.asOf(ctx, db, rows, userID, after, stream)
	if err != nil {
		return models.Replay{}, err
	}
	r.Changes = changes
	return r, nil
}

// AllChangesAndWithdrawalsAfter is ChangesAfter for every recipient (each
// with its whole audience, which the hub decides by per viewer), with
// the withdrawals of notifications new to after kept: the hub loads each
// change once and decides per subscriber, and fans those withdrawals out
// too, since a stream's replay may have read one before the hub did, and
// its client must hear that it is gone.
func (s *Store) AllChangesAndWithdrawalsAfter(ctx context.Context, after int64, limit int) ([]models.Notification, error) {
	ns, err := s.scanNotifications(ctx, "SELECT "+notificationColumns+
		" FROM notifications WHERE position > ? AND NOT scheduled ORDER BY position LIMIT ?", after, limit)
	if err != nil {
		return nil, fmt.Errorf("changes and withdrawals after %d: %w", after, err)
	}
	if err := s.fillRecipients(ctx, ns); err != nil {
		return nil, fmt.Errorf("changes and withdrawals after %d: %w", after, err)
	}
	if err := s.fillAddressees(ctx, s.db, ns); err != nil {
		return nil, fmt.Errorf("changes and withdrawals after %d: %w", after, err)
	}
	if err := s.loadAudienceChanges(ctx, s.db, ns, after); err != nil {
		return nil, fmt.Errorf("changes and withdrawals after %d: %w", after, err)
	}
	return ns, nil
}

// utcPtr is t in UTC, or nil. Timestamps are compared as stored, so every
// one is stored in UTC.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
