package controllers

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"beacon/app/broker"
	"beacon/app/models"
	"beacon/app/store"
	"beacon/views/pages"
)

// groupDelete deletes a group. One with members is deleted only with the
// form's confirm=yes: without it, the answer is the page that asks (and
// sends it), so that it works without JavaScript.
func (ctl *Controller) groupDelete(c echo.Context) error {
	name := c.Param("name")
	if !models.ValidGroupName(name) {
		return errNoGroup()
	}
	ctx := c.Request().Context()
	if c.FormValue("confirm") != "yes" {
		g, err := ctl.Store.GroupByName(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			return errNoGroup()
		}
		if err != nil {
			return err
		}
		if g.Members > 0 {
			return render(c, http.StatusOK, pages.ConfirmGroupDelete(ctl.page(c, "Delete "+name), g))
		}
	}
	err := broker.SaveThenPublishEach(ctx, ctl.Publisher, ctl.Log, func(ctx context.Context) ([]string, error) {
		members, err := ctl.Store.DeleteGroup(ctx, name)
		return userTopics(members), err
	})
	if errors.Is(err, store.ErrNotFound) {
		return errNoGroup()
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/groups")
}
