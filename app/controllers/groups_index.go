package controllers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"beacon/views/pages"
)

// groupsIndex lists the groups with their members, for admins, with the
// forms to change them.
func (ctl *Controller) groupsIndex(c echo.Context) error {
	return ctl.renderGroups(c, http.StatusOK, pages.GroupsPage{})
}

// renderGroups answers with the Groups page, gp's lists filled in.
func (ctl *Controller) renderGroups(c echo.Context, status int, gp pages.GroupsPage) error {
	ctx := c.Request().Context()
	gs, err := ctl.Store.Groups(ctx)
	if err != nil {
		return err
	}
	members, err := ctl.Store.GroupMembers(ctx)
	if err != nil {
		return err
	}
	gp.Groups, gp.Members = gs, members
	return render(c, status, pages.AdminGroups(ctl.page(c, "Groups"), gp))
}
