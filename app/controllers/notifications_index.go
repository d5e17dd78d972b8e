package controllers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"beacon/app/audience"
	"beacon/views/pages"
)

// adminListLimit is how many notifications the admin list shows.
const adminListLimit = 200

// notificationsIndex lists posted notifications with delivery counts, for admins.
func (ctl *Controller) notificationsIndex(c echo.Context) error {
	ns, err := ctl.Store.LatestNotifications(c.Request().Context(), adminListLimit)
	if err != nil {
		return err
	}
	for i := range ns {
		ns[i] = audience.ShownToAdmin(ns[i])
	}
	return render(c, http.StatusOK, pages.AdminNotifications(ctl.page(c, "Posted notifications"), ns))
}
