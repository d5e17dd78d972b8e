package controllers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/models"
	"beacon/views/components"
)

// Bounds of a page of the list API and the long poll.
const (
	defaultListLimit = 50
	maxListLimit     = 500
)

// notificationList is the shape of the list API and the long poll: the
// notifications that changed after the cursor, in position order, each
// components.NotificationJSON in its latest state (as the stream sends it;
// a withdrawn one as {"id","position","withdrawn":true}). LastID is the
// position of the last one, the client's next cursor.
type notificationList struct {
	Notifications []json.RawMessage `json:"notifications"`
	LastID        int64             `json:"last_id"`
}

// apiNotificationsIndex lists what the caller may see that changed after
// position ?after=, in position order.
func (ctl *Controller) apiNotificationsIndex(c echo.Context) error {
	after, limit, err := listParams(c)
	if err != nil {
		return err
	}
	ns, err := ctl.Store.ChangesAfter(c.Request().Context(), auth.UserID(c), after, int(limit))
	if err != nil {
		return err
	}
	return ctl.writeList(c, ns, after)
}

func (ctl *Controller) writeList(c echo.Context, ns []models.Notification, after int64) error {
	out := notificationList{Notifications: make([]json.RawMessage, 0, len(ns)), LastID: after}
	for _, n := range ns {
		p, err := components.NotificationJSON(c.Request().Context(), n)
		if err != nil {
			return err
		}
		out.Notifications = append(out.Notifications, p)
		out.LastID = n.Position
	}
	return c.JSON(http.StatusOK, out)
}

// listParams reads the cursor and page size the list and the poll share.
func listParams(c echo.Context) (after, limit int64, err error) {
	if after, err = intParam(c, "after", 0, 0, 1<<62); err != nil {
		return 0, 0, err
	}
	limit, err = intParam(c, "limit", defaultListLimit, 1, maxListLimit)
	return after, limit, err
}

// intParam reads an optional integer query parameter within [lo, hi].
func intParam(c echo.Context, name string, def, lo, hi int64) (int64, error) {
	s := c.QueryParam(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < lo || v > hi {
		return 0, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%s must be a whole number from %d to %d", name, lo, hi))
	}
	return v, nil
}
