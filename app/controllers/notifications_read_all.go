package controllers

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/store"
)

// notificationsReadAll marks every notification read up to the form's
// `through`: the stream position at which the newest one the page showed
// became visible, so that one that arrived since the user last looked
// stays unread. Without it, everything so far is marked.
func (ctl *Controller) notificationsReadAll(c echo.Context) error {
	through, err := throughParam(c)
	if err != nil {
		return err
	}
	uid := auth.UserID(c)
	if err := ctl.Store.MarkAllRead(c.Request().Context(), uid, through); err != nil {
		return err
	}
	return ctl.readDone(c, uid, through)
}

// throughParam reads the optional `through` form field: a stream position.
func throughParam(c echo.Context) (int64, error) {
	s := c.FormValue("through")
	if s == "" {
		return store.NoLimit, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, echo.NewHTTPError(http.StatusBadRequest, "through must be a stream position (a number)")
	}
	return v, nil
}

// readDone tells the user's other tabs, then answers a marking: with the
// unread count for the feed's script (Accept: application/json), else with
// a redirect back to the feed for a plain form.
// The script sends through, where the newest it shows became visible, so
// the count matches its page; notifications that reach it later add to
// the count there.
func (ctl *Controller) readDone(c echo.Context, uid, through int64) error {
	ctl.publishUser(c.Request().Context(), uid)
	if !wantsJSON(c) {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	n, err := ctl.Store.UnreadCount(c.Request().Context(), uid, through)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int64{"unread": n})
}
