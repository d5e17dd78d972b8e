package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"gorm.io/gorm"

	"beacon/app/audience"
	"beacon/app/models"
)

// A notification's changes of audience (UpdateNotification with To) are
// read by whoever must tell a client at a cursor what it holds: the hub,
// a stream's replay, the list and the long poll. Rarely any: a reader
// looks for them only where a notification's audience_position is past
// its cursor.

// visibleOrLostTo is visibleTo, and also the notifications user userID
// was in the audience of at some change after position after: a client at
// after may hold one it has since lost, and must hear that it is gone
// (AsOf decides).
func visibleOrLostTo(userID, after int64) func(*gorm.DB) *gorm.DB {
	v := audience.User(userID)
	now, args := audience.Where("notifications", v)
	then, _ := audience.Where("h", v)
	args = append(args, sql.Named("after", after))
	return func(db *gorm.DB) *gorm.DB {
		return db.Where("("+now+" OR notifications.id IN (SELECT h.notification_id FROM notification_audience_changes h"+
			" WHERE h.position > @after AND "+then+"))", args...)
	}
}

// loadAudienceChanges sets the AudienceChanges after position after, with
// their audiences' entries, of those of ns whose audience changed after
// it: one query on db, none when none did.
func (s *Store) loadAudienceChanges(ctx context.Context, db *gorm.DB, ns []models.Notification, after int64) error {
	var ids []int64
	for _, n := range ns {
		if n.AudiencePosition > after {
			ids = append(ids, n.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	byID := map[int64][]models.AudienceChange{}
	for chunk := range slices.Chunk(ids, lookupChunk) {
		var cs []models.AudienceChange
		err := db.WithContext(ctx).Where("notification_id IN ? AND position > ?", chunk, after).
			Order("notification_id, position").Find(&cs).Error
		if err != nil {
			return fmt.Errorf("audience changes after %d: %w", after, err)
		}
		// Their audiences' entries, as the change feed loads a
		// notification's (and from the same cache).
		as := make([]models.Notification, len(cs))
		for i, c := range cs {
			as[i] = models.Notification{RecipientID: c.RecipientID, AudienceID: c.AudienceID}
		}
		if err := s.fillAddressees(ctx, db, as); err != nil {
			return fmt.Errorf("audience changes after %d: %w", after, err)
		}
		for i, c := range cs {
			c.Addressees = as[i].Addressees
			byID[c.NotificationID] = append(byID[c.NotificationID], c)
		}
	}
	for i := range ns {
		if cs, ok := byID[ns[i].ID]; ok {
			ns[i].AudienceChanges = cs
		}
	}
	return nil
}

// asOf is ns, read by visibleOrLostTo for user userID at position after,
// as that user's client is to be told of them: those whose audience
// changed after it by audience.AsOf (a list: each once, in its state to
// the user) or, for a stream, by audience.Timeline.Told (each event where
// it happened to the user); the others as they are, less the withdrawals
// of ones new to after (nothing to take back).
func (s *Store) asOf(ctx context.Context, db *gorm.DB, ns []models.Notification, userID, after int64, stream bool) ([]models.Notification, error) {
	var v audience.Viewer
	if slices.ContainsFunc(ns, func(n models.Notification) bool { return n.AudiencePosition > after }) {
		if err := s.loadAudienceChanges(ctx, db, ns, after); err != nil {
			return nil, err
		}
		groups, err := groupIDsOf(ctx, db, userID)
		if err != nil {
			return nil, err
		}
		v = audience.Member(userID, groups)
	}
	out := make([]models.Notification, 0, len(ns))
	for _, n := range ns {
		switch {
		case n.AudiencePosition <= after:
			if !n.Withdrawn() || !n.NewAfter(after) {
				out = append(out, n)
			}
		case stream:
			out = append(out, audience.TimelineOf(n).Told(v, after)...)
		default:
			if told, ok := audience.AsOf(n, v, after); ok {
				out = append(out, told)
			}
		}
	}
	for i := range out {
		out[i].AudienceChanges = nil // read; the caller needs them no more
	}
	return out, nil
}
