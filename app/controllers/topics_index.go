package controllers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/views/pages"
)

// topicsIndex lists the open groups for the signed-in user, each to
// follow or leave.
func (ctl *Controller) topicsIndex(c echo.Context) error {
	ts, err := ctl.Store.OpenGroups(c.Request().Context(), auth.UserID(c))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, pages.Topics(ctl.page(c, "Topics"), ts))
}
