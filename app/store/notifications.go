package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"beacon/app/audience"
	"beacon/app/models"
	"beacon/migrations"
)

// notificationsLock is the PostgreSQL advisory lock that orders every
// write taking a stream position: inserts, edits, replacements,
// withdrawals, deliveries and prunes (any constant; it only has to be the
// same everywhere).
const notificationsLock = 0x6265_6163_6f6e

// insertNotification stores n at a new position, inside a locked
// transaction, and sets its ID, which is also its first stream position.
// A DeliverAt in the future makes it scheduled (see DeliverDue).
func (s *Store) insertNotification(tx *gorm.DB, n *models.Notification, now time.Time) error {
	pos, err := s.nextPosition(tx)
	if err != nil {
		return err
	}
	prepareInsert(n, now)
	placeAt(n, pos)
	return tx.Omit("Recipient", "Addressees").Create(n).Error
}

// prepareInsert fills in what n's new row holds besides its position.
func prepareInsert(n *models.Notification, now time.Time) {
	if n.Key != nil && *n.Key == "" {
		n.Key = nil
	}
	if n.CreatedAt.IsZero() {
		// PostgreSQL keeps microseconds: n then reads as stored.
		n.CreatedAt = now.Truncate(time.Microsecond)
	}
	n.UpdatedAt = n.CreatedAt
	n.Scheduled, n.WithdrawnAt = false, nil
	if n.DeliverAt != nil {
		due := n.DeliverAt.UTC()
		n.DeliverAt = &due
		n.Scheduled = due.After(now)
	}
}

// placeAt gives n, prepared, the position pos: its id, and its first
// position unless it waits to be delivered.
func placeAt(n *models.Notification, pos int64) {
	n.ID, n.Position, n.FirstPosition = pos, pos, pos
	if n.Scheduled {
		n.FirstPosition = 0
	}
}

// lockedTx runs fn in a transaction that, on PostgreSQL, holds the
// advisory lock named lock until it commits. Inserts made under one lock
// commit in id order. On SQLite, where transactions begin as the single
// writer, fn is committed in a group with the others waiting for it (see
// groupTx): ids still commit in order, and fn's caller hears after the
// commit. fn runs while the writer is held, so it must not write through
// the store itself.
func (s *Store) lockedTx(ctx context.Context, lock int64, fn func(tx *gorm.DB) error) error {
	if s.dialect == migrations.SQLite || lock == notificationsLock {
		return s.groupTx(ctx, &groupTx{fn: fn})
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", lock).Error; err != nil {
			return err
		}
		return fn(tx)
	})
}

// positionedTx runs fn, a write that takes stream positions, committed in
// a group with the others of this instance waiting at the time (groupTx),
// on PostgreSQL under notificationsLock. Every post holds the lock that
// orders all of them, on every instance, until it commits: a group holds
// it once for all its posts.
func (s *Store) positionedTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.lockedTx(ctx, notificationsLock, fn)
}

// insertGrouped is positionedTx for a plain insert of n: on PostgreSQL the
// group stores every such post in one statement, which also takes the
// lock and their positions.
func (s *Store) insertGrouped(ctx context.Context, n *models.Notification) error {
	return s.groupTx(ctx, &groupTx{insert: n, fn: func(tx *gorm.DB) error {
		return s.insertNotification(tx, n, timestamp())
	}})
}

// visibleTo limits a query to what the user with id userID (0: a visitor)
// may see: package audience holds the rule.
func visibleTo(userID int64) func(*gorm.DB) *gorm.DB {
	cond, args := audience.Where("notifications", audience.User(userID))
	return func(db *gorm.DB) *gorm.DB { return db.Where(cond, args...) }
}

// withAudience loads who notifications are for, in full: their recipient,
// or their audience's users and groups. For admins, and for the hub,
// which decides per viewer.
func withAudience(db *gorm.DB) *gorm.DB {
	return db.Preload("Recipient").Preload("Addressees.User").Preload("Addressees.Group")
}

// withAudienceFor loads what user userID may be told of who notifications
// are for: their recipient (only ever userID, by visibleTo), and of an
// audience the entries that name userID or a group they are in
// (audience.ShownTo), never the rest.
func withAudienceFor(userID int64) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		return db.Preload("Recipient").
			Preload("Addressees", "user_id = ? OR group_id IN (SELECT group_id FROM group_members WHERE user_id = ?)", userID, userID).
			Preload("Addressees.User").Preload("Addressees.Group")
	}
}

// timestamp is the time stored in the rows: UTC, in the microseconds both
// databases keep.
func timestamp() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// live limits a query to notifications users may see at all: delivered,
// not withdrawn. Admin views leave it out.
func live(db *gorm.DB) *gorm.DB {
	return db.Where("withdrawn_at IS NULL AND NOT scheduled")
}

// RecentNotifications returns the newest limit notifications user userID may
// see, leaving out withdrawn and scheduled ones, in the order they became
// visible (FirstPosition), newest first: a scheduled one that just fell due
// comes before those posted while it waited.
func (s *Store) RecentNotifications(ctx context.Context, userID int64, limit int) ([]models.Notification, error) {
	return s.FeedPage(ctx, userID, FeedFilter{}, limit)
}

// LatestNotifications returns the newest limit notifications for every
// recipient, newest first, with their read counts, for the admin list:
// withdrawn and scheduled ones included, their state fields filled.
func (s *Store) LatestNotifications(ctx context.Context, limit int) ([]models.Notification, error) {
	var ns []models.Notification
	err := s.db.WithContext(ctx).Preload("Recipient").Order("id DESC").Limit(limit).Find(&ns).Error
	if err != nil {
		return nil, fmt.Errorf("latest notifications: %w", err)
	}
	// From the audiences the change feed keeps: a list of 200 posts to
	// the same thousand users reads them once, not 200 times.
	if err := s.fillAddressees(ctx, s.db, ns); err != nil {
		return nil, fmt.Errorf("latest notifications: %w", err)
	}
	if err := s.fillReadBy(ctx, ns); err != nil {
		return nil, fmt.Errorf("latest notifications: %w", err)
	}
	if err := s.fillDeliveries(ctx, ns); err != nil {
		return nil, fmt.Errorf("latest notifications: %w", err)
	}
	return ns, nil
}

// NotificationByID returns notification id in whatever state it is in
// (scheduled, live or withdrawn), its recipient and delivery count
// filled; ErrNotFound when there is none. It only reads: the admin's edit
// form, say.
func (s *Store) NotificationByID(ctx context.Context, id int64) (models.Notification, error) {
	var n models.Notification
	if err := s.db.WithContext(ctx).Scopes(withAudience).Take(&n, id).Error; err != nil {
		return models.Notification{}, fmt.Errorf("notification %d: %w", id, notFound(err))
	}
	ns := []models.Notification{n}
	if err := s.fillDeliveries(ctx, ns); err != nil {
		return models.Notification{}, fmt.Errorf("notification %d: %w", id, err)
	}
	return ns[0], nil
}
