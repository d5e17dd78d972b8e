package controllers

import (
	"github.com/labstack/echo/v4"
)

// groupMemberRemove takes the user with the form's email out of the group,
// as groupMemberAdd puts one in; one who is not in it is no change.
func (ctl *Controller) groupMemberRemove(c echo.Context) error {
	return ctl.changeMember(c, ctl.Store.RemoveGroupMembers)
}
