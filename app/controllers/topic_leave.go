package controllers

import (
	"github.com/labstack/echo/v4"
)

// topicLeave takes the signed-in user out of an open group, as topicFollow
// puts them in; leaving one they do not follow is no change.
func (ctl *Controller) topicLeave(c echo.Context) error {
	return ctl.changeTopic(c, ctl.Store.LeaveGroup)
}
