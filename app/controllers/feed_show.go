package controllers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/views/pages"
)

// feedLimit is how many notifications the feed page renders.
const feedLimit = 50

// feedShow renders the feed, newest first. The stream picks up after the
// newest id this page shows.
func (ctl *Controller) feedShow(c echo.Context) error {
	ns, err := ctl.Store.RecentNotifications(c.Request().Context(), auth.UserID(c), feedLimit)
	if err != nil {
		return err
	}
	var lastID int64
	if len(ns) > 0 {
		lastID = ns[0].ID
	}
	return render(c, http.StatusOK, pages.Feed(ctl.page(c, "Notifications"), ns, lastID))
}
