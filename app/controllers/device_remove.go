package controllers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/store"
)

// deviceRemove forgets one of the person's push devices
// (POST /settings/devices/:id/remove): 303 back to the settings; 404 for
// one that is not theirs.
func (ctl *Controller) deviceRemove(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such device.")
	}
	err = ctl.Store.DeletePushSubscriptionByID(c.Request().Context(), auth.UserID(c), id)
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such device.")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/settings")
}
