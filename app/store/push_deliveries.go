package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"time"

	"gorm.io/gorm"

	"beacon/app/audience"
	"beacon/app/models"
	"beacon/migrations"
)

// NextPushDue is when the earliest push owed falls due, or the zero time
// when none is owed (claimed ones count: a claim may be given back).
func (s *Store) NextPushDue(ctx context.Context) (time.Time, error) {
	// Not MIN(due_at): SQLite would hand back text, not a time.
	var next []time.Time
	err := s.db.WithContext(ctx).Raw("SELECT due_at FROM push_deliveries WHERE due_at IS NOT NULL ORDER BY due_at LIMIT 1").Scan(&next).Error
	if err != nil {
		return time.Time{}, fmt.Errorf("next push due: %w", err)
	}
	if len(next) == 0 {
		return time.Time{}, nil
	}
	return next[0], nil
}

// ClaimPushes claims up to limit pushes due at now that no instance holds,
// for lease, and returns each with its device and its notification as
// they are now; pushes to the push services at busy (origins, such as
// https://fcm.googleapis.com) are left for later. A claim outlives its
// instance by lease at most: then the push is due again.
func (s *Store) ClaimPushes(ctx context.Context, now time.Time, lease time.Duration, limit int, busy []string) ([]models.PushJob, error) {
	if limit <= 0 {
		return nil, nil
	}
	now = now.UTC()
	claim := newClaim()
	// Another instance's claim in between makes the outer conditions fail
	// for its rows (PostgreSQL checks them again on the row it waited for).
	skip := ""
	if s.dialect == migrations.Postgres {
		skip = " FOR UPDATE OF d SKIP LOCKED"
	}
	notBusy, args := "", []any{claim, now.Add(lease), now, now}
	for _, origin := range busy {
		notBusy += ` AND ps.endpoint NOT LIKE ? ESCAPE '\'`
		args = append(args, escapeLike(origin)+"/%")
	}
	args = append(args, limit, now, now)
	err := s.write(ctx, func() error {
		return s.db.WithContext(ctx).Exec(`UPDATE push_deliveries SET claim = ?, claimed_until = ?
			WHERE (subscription_id, notification_id) IN (SELECT d.subscription_id, d.notification_id FROM push_deliveries d
				JOIN push_subscriptions ps ON ps.id = d.subscription_id
				WHERE d.due_at <= ? AND (d.claimed_until IS NULL OR d.claimed_until <= ?)`+notBusy+`
				ORDER BY d.due_at LIMIT ?`+skip+`)
			AND due_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)`, args...).Error
	})
	if err != nil {
		return nil, fmt.Errorf("claim pushes: %w", err)
	}
	var jobs []models.PushJob
	err = s.db.WithContext(ctx).Raw(`SELECT d.subscription_id, d.notification_id, d.claim, d.seq, d.shown, d.attempts, d.failing_since,
			ps.user_id, ps.endpoint, ps.p256dh, ps.auth, ps.failing_since AS subscription_failing_since,
			n.title, n.body, n.level, n.url, n.created_at,
			CASE WHEN n.withdrawn_at IS NULL AND NOT n.scheduled THEN 1 ELSE 0 END AS live,
			CASE WHEN `+audience.SQL("n", "ps.user_id")+` THEN 1 ELSE 0 END AS sees,
			CASE WHEN `+readSQL("n", "u")+` THEN 1 ELSE 0 END AS read,
			ps.user_id AS pref_user_id, COALESCE(pr.levels, ?) AS pref_levels, COALESCE(pr.quiet_start, '') AS pref_quiet_start,
			COALESCE(pr.quiet_end, '') AS pref_quiet_end, COALESCE(pr.time_zone, 'UTC') AS pref_time_zone,
			CASE WHEN pr.quiet_allow_errors THEN 1 ELSE 0 END AS pref_quiet_allow_errors
		FROM push_deliveries d
		JOIN push_subscriptions ps ON ps.id = d.subscription_id
		JOIN notifications n ON n.id = d.notification_id
		JOIN users u ON u.id = ps.user_id
		LEFT JOIN user_preferences pr ON pr.user_id = ps.user_id
		WHERE d.claim = ? ORDER BY d.due_at`, models.DefaultPreferences(0).Levels, claim).Scan(&jobs).Error
	if err != nil {
		return nil, fmt.Errorf("claimed pushes: %w", err)
	}
	return jobs, nil
}

// newClaim is a token no other claim has (64 random bits).
func newClaim() int64 {
	var b [8]byte
	rand.Read(b[:])
	return int64(binary.LittleEndian.Uint64(b[:]) >> 1)
}

// FinishPushes records what became of claimed pushes, in one transaction.
// An outcome whose claim was lost meanwhile (its lease ran out, and
// another instance claimed it) changes nothing. A change planned while a
// push was out (Seq moved on) stays owed. It returns the subscriptions it
// deleted (gone, or failing for days).
func (s *Store) FinishPushes(ctx context.Context, outcomes []models.PushOutcome) (removed []int64, err error) {
	if len(outcomes) == 0 {
		return nil, nil
	}
	// Rows in one order on every instance: two instances' batches then
	// wait for each other rather than deadlock.
	outcomes = slices.Clone(outcomes)
	slices.SortFunc(outcomes, func(a, b models.PushOutcome) int {
		return cmp.Or(cmp.Compare(a.Job.SubscriptionID, b.Job.SubscriptionID), cmp.Compare(a.Job.NotificationID, b.Job.NotificationID))
	})
	for try := 1; ; try++ {
		now := timestamp()
		err = s.write(ctx, func() error {
			return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				devices := map[int64]deviceResult{}
				for _, o := range outcomes {
					if err := finishPush(tx, o, now); err != nil {
						return err
					}
					devices[o.Job.SubscriptionID] = devices[o.Job.SubscriptionID].add(o)
				}
				removed, err = finishDevices(tx, devices, now)
				return err
			})
		})
		// A deadlock with another instance's plan is rare, and the
		// transaction is undone whole: doing it again is safe.
		if err == nil || try == 3 || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("finish %d pushes: %w", len(outcomes), err)
	}
	return removed, nil
}

// pushGivesUpAfter is how long a device whose every push fails is kept.
const pushGivesUpAfter = 3 * 24 * time.Hour

// finishPush records o for its push.
func finishPush(tx *gorm.DB, o models.PushOutcome, now time.Time) error {
	j := o.Job
	const mine = " WHERE subscription_id = ? AND notification_id = ? AND claim = ?"
	key := []any{j.SubscriptionID, j.NotificationID, j.Claim}
	// A change planned while the push was out stays owed.
	const settled = "due_at = CASE WHEN seq = ? THEN NULL ELSE due_at END"
	switch o.Result {
	case models.PushShown:
		return tx.Exec(`UPDATE push_deliveries SET shown = TRUE, attempts = 0, failing_since = NULL, claim = NULL,
			claimed_until = NULL, updated_at = ?, `+settled+mine, append([]any{now, j.Seq}, key...)...).Error
	case models.PushClosed, models.PushDropped:
		// Nothing more is owed: a device not showing it needs no row; one
		// showing it keeps its row for a later edit or withdrawal.
		shown := j.Shown && o.Result != models.PushClosed
		if !shown {
			res := tx.Exec("DELETE FROM push_deliveries"+mine+" AND seq = ?", append(key, j.Seq)...)
			if res.Error != nil || res.RowsAffected == 1 {
				return res.Error
			}
		}
		return tx.Exec(`UPDATE push_deliveries SET shown = ?, attempts = 0, failing_since = NULL, claim = NULL,
			claimed_until = NULL, updated_at = ?, `+settled+mine, append([]any{shown, now, j.Seq}, key...)...).Error
	case models.PushGone:
		return nil // the device goes, in finishDevices
	case models.PushRetry:
		return tx.Exec(`UPDATE push_deliveries SET attempts = attempts + 1, due_at = ?, failing_since = COALESCE(failing_since, ?),
			claim = NULL, claimed_until = NULL, updated_at = ?`+mine, append([]any{o.RetryAt.UTC(), now, now}, key...)...).Error
	case models.PushReleased:
		var until *time.Time
		if !o.RetryAt.IsZero() {
			t := o.RetryAt.UTC()
			until = &t
		}
		return tx.Exec("UPDATE push_deliveries SET claim = NULL, claimed_until = ?"+mine, append([]any{until}, key...)...).Error
	}
	return fmt.Errorf("push outcome %d: unknown", o.Result)
}

// deviceResult is what a batch of outcomes says of one device.
type deviceResult struct {
	delivered, failed, gone bool
	failingSince            *time.Time
}

func (d deviceResult) add(o models.PushOutcome) deviceResult {
	switch {
	case o.Result == models.PushShown || o.Result == models.PushClosed:
		d.delivered = true
	case o.Result == models.PushGone:
		d.gone = true
	case o.Failed:
		d.failed, d.failingSince = true, o.Job.SubscriptionFailingSince
	}
	return d
}

// finishDevices records, device by device in id order, a push that went
// through (last_push_at) or failed, and deletes those gone or failing
// for pushGivesUpAfter.
func finishDevices(tx *gorm.DB, devices map[int64]deviceResult, now time.Time) (removed []int64, err error) {
	for _, id := range slices.Sorted(maps.Keys(devices)) {
		d := devices[id]
		switch {
		case d.gone || !d.delivered && d.failed && d.failingSince != nil && now.Sub(*d.failingSince) > pushGivesUpAfter:
			err = tx.Exec("DELETE FROM push_subscriptions WHERE id = ?", id).Error
			removed = append(removed, id)
		case d.delivered:
			err = tx.Exec("UPDATE push_subscriptions SET last_push_at = ?, failing_since = NULL WHERE id = ?", now, id).Error
		case d.failed:
			err = tx.Exec("UPDATE push_subscriptions SET failing_since = COALESCE(failing_since, ?) WHERE id = ?", now, id).Error
		}
		if err != nil {
			return nil, err
		}
	}
	return removed, nil
}

// PrunePushDeliveries forgets what devices were shown of notifications
// that changed last before t: a later edit or withdrawal of those no
// longer reaches a device that may still show it.
func (s *Store) PrunePushDeliveries(ctx context.Context, t time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func() error {
		res := s.db.WithContext(ctx).Exec("DELETE FROM push_deliveries WHERE due_at IS NULL AND claim IS NULL AND updated_at < ?", t.UTC())
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("prune push deliveries: %w", err)
	}
	return n, nil
}

// PushCounts are the figures /metrics serves of Web Push.
type PushCounts struct {
	Subscriptions int64
	Pending       int64
}

// CountPushes counts the subscriptions and the pushes owed.
func (s *Store) CountPushes(ctx context.Context) (PushCounts, error) {
	var c PushCounts
	err := s.db.WithContext(ctx).Raw(`SELECT (SELECT COUNT(*) FROM push_subscriptions) AS subscriptions,
		(SELECT COUNT(*) FROM push_deliveries WHERE due_at IS NOT NULL) AS pending`).Scan(&c).Error
	if err != nil {
		return PushCounts{}, fmt.Errorf("count pushes: %w", err)
	}
	return c, nil
}
