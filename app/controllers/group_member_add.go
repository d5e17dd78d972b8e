package controllers

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"beacon/app/broker"
	"beacon/app/models"
	"beacon/app/store"
	"beacon/views/pages"
)

// groupMemberAdd puts the user with the form's email into the group. The
// user's streams on this instance hear of it at once, and every instance's
// within a second or two (jobs.GroupWatch).
func (ctl *Controller) groupMemberAdd(c echo.Context) error {
	return ctl.changeMember(c, ctl.Store.AddGroupMembers)
}

// changeMember adds or removes (change) the member the form's email names
// in the route's group: 303 back to the list, 422 with the list and the
// error for an email that names nobody, 404 for an unknown group.
func (ctl *Controller) changeMember(c echo.Context, change func(ctx context.Context, name string, emails []string) ([]int64, error)) error {
	name, email := c.Param("name"), strings.TrimSpace(c.FormValue("email"))
	if !models.ValidGroupName(name) {
		return errNoGroup()
	}
	refuse := func(msg string) error {
		return ctl.renderGroups(c, http.StatusUnprocessableEntity, pages.GroupsPage{MemberGroup: name, MemberEmail: email, MemberError: msg})
	}
	if email == "" {
		return refuse("Enter the email of a user.")
	}
	err := broker.SaveThenPublishEach(c.Request().Context(), ctl.Publisher, ctl.Log, func(ctx context.Context) ([]string, error) {
		users, err := change(ctx, name, []string{email})
		return userTopics(users), err
	})
	var unknown *store.UnknownError
	switch {
	case errors.As(err, &unknown) && unknown.Kind == "group":
		return errNoGroup()
	case errors.As(err, &unknown):
		return refuse("There is no user with that email.")
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/groups")
}

// userTopics are the broker topics of these users.
func userTopics(users []int64) []string {
	topics := make([]string, len(users))
	for i, id := range users {
		topics[i] = broker.UserTopic(id)
	}
	return topics
}

// errNoGroup answers a group name with no group behind it.
func errNoGroup() error {
	return echo.NewHTTPError(http.StatusNotFound, "There is no group with that name.")
}
