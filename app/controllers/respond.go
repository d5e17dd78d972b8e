package controllers

// Writing answers: pages, refusals, and the API's JSON.

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"beacon/app/audience"
	"beacon/app/auth"
	"beacon/app/models"
)

// render writes a templ component as the whole response. It renders to a
// buffer first, so a failure is a clean 500 rather than half a page.
func render(c echo.Context, status int, component templ.Component) error {
	var buf bytes.Buffer
	if err := component.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// answer writes a refusal as JSON for the API and as text otherwise. It
// does not render a page: the request's context may be over already (a
// failed read ends it), and a page rendering would fail with it.
func answer(c echo.Context, status int, msg string) error {
	if wantsJSON(c) {
		return c.JSON(status, map[string]string{"error": msg})
	}
	return c.String(status, msg)
}

// errNoNotification answers an id there is no live notification for.
func errNoNotification() error {
	return echo.NewHTTPError(http.StatusNotFound, "There is no such notification (or it was withdrawn).")
}

// writeNotification answers with n's wire JSON, as the stream sends it.
// The bytes go as they are: c.JSON would encode them again.
func (ctl *Controller) writeNotification(c echo.Context, status int, n models.Notification) error {
	p, err := ctl.Fragments.NotificationJSON(c.Request().Context(), n)
	if err != nil {
		return err
	}
	return c.JSONBlob(status, p)
}

// notificationList is the shape of the list API and the long poll: the
// notifications that changed after the cursor, in position order, each
// components.NotificationJSON in its latest state (as the stream sends it;
// a withdrawn one as {"id","position","withdrawn":true}). LastID is the
// position of the last one, the client's next cursor.
type notificationList struct {
	Notifications []json.RawMessage `json:"notifications"`
	LastID        int64             `json:"last_id"`
}

// writeList answers with a page as a notificationList, each shown as the
// signed-in user may be told of its audience, and for them whether they
// have read it ("read") and archived it ("archived").
func (ctl *Controller) writeList(c echo.Context, page models.Replay) error {
	ns := page.Changes
	out := notificationList{Notifications: make([]json.RawMessage, 0, len(ns)), LastID: page.Through} // after, when there is none
	v, err := ctl.viewer(c, ns)
	if err != nil {
		return err
	}
	var read, archived map[int64]bool
	if uid := auth.UserID(c); uid != 0 && len(ns) > 0 {
		ids := make([]int64, len(ns))
		for i, n := range ns {
			ids[i] = n.ID
		}
		r, a, err := ctl.Store.NotificationStates(c.Request().Context(), uid, ids)
		if err != nil {
			return err
		}
		read, archived = make(map[int64]bool, len(r)), make(map[int64]bool, len(a))
		for _, id := range r {
			read[id] = true
		}
		for _, id := range a {
			archived[id] = true
		}
	}
	for _, n := range ns {
		n = audience.ShownTo(n, v)
		if read != nil && !n.Withdrawn() {
			r, a := read[n.ID], archived[n.ID]
			n.Read, n.Archived = &r, &a
		}
		p, err := ctl.Fragments.NotificationJSON(c.Request().Context(), n)
		if err != nil {
			return err
		}
		out.Notifications = append(out.Notifications, p)
		out.LastID = n.Position
	}
	return c.JSON(http.StatusOK, out)
}

// readDone answers a marking, once it is saved and the user's other tabs
// told (on broker.UserTopic, where they look again for the new unread
// count): with the unread count for the feed's script (Accept:
// application/json), else with a redirect back to the feed for a plain
// form.
// The script sends through, where the newest it shows became visible, so
// the count matches its page; notifications that reach it later add to
// the count there.
func (ctl *Controller) readDone(c echo.Context, uid, through int64) error {
	if !wantsJSON(c) {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	n, err := ctl.Store.UnreadCount(c.Request().Context(), uid, through)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int64{"unread": n})
}

// roughly says d in whole minutes, or seconds under one.
func roughly(d time.Duration) string {
	if d < time.Minute {
		return strconv.Itoa(max(1, int(d.Seconds()))) + " seconds"
	}
	m := int((d + time.Minute - 1) / time.Minute)
	if m == 1 {
		return "1 minute"
	}
	return strconv.Itoa(m) + " minutes"
}

// viewer is the signed-in user as package audience knows them, with their
// groups read only when one of ns is addressed to a list.
func (ctl *Controller) viewer(c echo.Context, ns []models.Notification) (audience.Viewer, error) {
	uid := auth.UserID(c)
	if uid == 0 || !slices.ContainsFunc(ns, func(n models.Notification) bool { return n.AudienceID != nil }) {
		return audience.User(uid), nil
	}
	groups, err := ctl.Store.GroupIDsOf(c.Request().Context(), uid)
	if err != nil {
		return audience.Viewer{}, err
	}
	return audience.Member(uid, groups), nil
}
