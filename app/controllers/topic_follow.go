package controllers

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/broker"
	"beacon/app/models"
	"beacon/app/store"
)

// topicFollow makes the signed-in user a member of an open group; 303
// back to /topics. A closed or unknown group is 404, and nothing changes.
func (ctl *Controller) topicFollow(c echo.Context) error {
	return ctl.changeTopic(c, ctl.Store.FollowGroup)
}

// changeTopic follows or leaves (change) the route's topic for the
// signed-in user, and tells their streams.
func (ctl *Controller) changeTopic(c echo.Context, change func(ctx context.Context, userID int64, name string) error) error {
	name, uid := c.Param("name"), auth.UserID(c)
	if !models.ValidGroupName(name) {
		return errNoTopic()
	}
	err := broker.SaveThenPublish(c.Request().Context(), ctl.Publisher, ctl.Log, broker.UserTopic(uid), func(ctx context.Context) error {
		return change(ctx, uid, name)
	})
	if errors.Is(err, store.ErrNotFound) {
		return errNoTopic()
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/topics")
}

// errNoTopic answers a name with no open group behind it.
func errNoTopic() error {
	return echo.NewHTTPError(http.StatusNotFound, "There is no topic with that name.")
}
