package controllers

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/broker"
	"beacon/app/models"
	"beacon/app/store"
)

// notificationOpen is where a click on a desktop notification leads
// (GET /notifications/:id/open): it marks the notification read for the
// signed-in user and sends them on to its url, else to the feed. A GET,
// because the service worker that opens it has the session cookie but no
// CSRF token; marking read is its one effect, and a navigation another
// site started (Sec-Fetch-Site) only lands on the feed. Someone else's
// notification is 404, like a missing one.
func (ctl *Controller) notificationOpen(c echo.Context) error {
	id, err := notificationID(c)
	if err != nil {
		return err
	}
	if !ownNavigation(c.Request()) {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	uid := auth.UserID(c)
	err = broker.SaveThenPublish(c.Request().Context(), ctl.Publisher, ctl.Log, broker.UserTopic(uid), func(ctx context.Context) error {
		return ctl.Store.MarkRead(ctx, uid, id)
	})
	if errors.Is(err, store.ErrNotFound) {
		return errNoNotification()
	}
	if err != nil {
		return err
	}
	n, err := ctl.Store.NotificationByID(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) || err == nil && n.Withdrawn() {
		return errNoNotification() // withdrawn since it was marked
	}
	if err != nil {
		return err
	}
	// Checked when stored; checked again, since a redirect to anything
	// else (javascript:, //host) would be ours to answer for.
	if n.URL != nil && models.CheckURL(*n.URL) {
		return c.Redirect(http.StatusSeeOther, *n.URL)
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

// ownNavigation reports whether the browser says it made the request on
// its own or for this origin's page or worker (Sec-Fetch-Site none or
// same-origin), or says nothing (older browsers, tools).
func ownNavigation(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "none", "same-origin":
		return true
	}
	return false
}
