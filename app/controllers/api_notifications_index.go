package controllers

import (
	"github.com/labstack/echo/v4"

	"beacon/app/auth"
)

// apiNotificationsIndex lists what the caller may see that changed after
// position ?after=, in position order.
func (ctl *Controller) apiNotificationsIndex(c echo.Context) error {
	after, limit, err := listParams(c)
	if err != nil {
		return err
	}
	page, err := ctl.Store.ListAfter(c.Request().Context(), auth.UserID(c), after, int(limit))
	if err != nil {
		return err
	}
	return ctl.writeList(c, page)
}
