package controllers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/models"
	"beacon/views/pages"
)

// feedLimit is how many notifications the feed page renders.
const feedLimit = 50

// feedShow renders the feed, newest first, each marked read or unread for
// a signed-in user; ?before=, ?level= and ?q= page back and narrow it
// (feedFilter), and the live stream then adds nothing to the page. The stream picks up after the newest position this
// viewer could see before the rows were read: a change committed between
// the two is replayed (one the page already shows is applied again,
// harmlessly) rather than missed. "Mark all as read" and the unread count
// cover exactly what the page shows: up to the newest FirstPosition, the
// position at which the newest one shown became visible.
func (ctl *Controller) feedShow(c echo.Context) error {
	ctx := c.Request().Context()
	uid := auth.UserID(c)
	// The user's state number, read first: a change after it shows on
	// the page or not, and the page's stream sends it either way
	// (?state_after=), so none is missed.
	var stateSeq int64
	if uid != 0 {
		var err error
		if stateSeq, err = ctl.Store.StateSeq(ctx, uid); err != nil {
			return err
		}
	}
	cursor, err := ctl.Store.LastVisiblePosition(ctx, uid)
	if err != nil {
		return err
	}
	// Not below what retention pruned: the stream resets a cursor there,
	// and a page that reloads on reset would loop.
	pruned, err := ctl.Store.PrunedThrough(ctx)
	if err != nil {
		return err
	}
	cursor = max(cursor, pruned)
	filter, notices := feedFilter(c)
	ns, err := ctl.Store.FeedPage(ctx, uid, filter, feedLimit)
	if err != nil {
		return err
	}
	var shownThrough int64 // ns is in FirstPosition order, newest first
	if len(ns) > 0 {
		shownThrough = ns[0].FirstPosition
	}
	history := feedHistory(filter, notices, ns, len(ns) == feedLimit)
	if history.Paged || history.Filtered {
		// The count and "mark all" cover the newest, not this page's.
		newest, err := ctl.Store.RecentNotifications(ctx, uid, 1)
		if err != nil {
			return err
		}
		shownThrough = 0
		if len(newest) > 0 {
			shownThrough = newest[0].FirstPosition
		}
	}
	items := make([]pages.FeedItem, len(ns))
	for i, n := range ns {
		items[i].Notification = n
	}
	var prefs *models.Preferences
	if uid != 0 {
		p, err := ctl.Store.PreferencesOf(ctx, uid)
		if err != nil {
			return err
		}
		prefs = &p
		ids := make([]int64, len(ns))
		for i, n := range ns {
			ids[i] = n.ID
		}
		read, err := ctl.Store.ReadNotificationIDs(ctx, uid, ids)
		if err != nil {
			return err
		}
		for i := range items {
			r := read[items[i].Notification.ID]
			items[i].Read = &r
		}
	}
	at := pages.FeedCursor{ShownThrough: shownThrough, Position: cursor, StateSeq: stateSeq}
	return render(c, http.StatusOK, pages.Feed(ctl.pageThrough(c, "Notifications", shownThrough), items, at, history, prefs))
}
