package controllers

// Reading a request's parameters: the route's, the query's and the
// form's. A bad one is an HTTP error for HandleError to answer.

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"beacon/app/models"
	"beacon/app/store"
)

// Bounds of a page of the list API and the long poll.
const (
	defaultListLimit = 50
	maxListLimit     = 500
)

// listParams reads the cursor and page size the list and the poll share.
func listParams(c echo.Context) (after, limit int64, err error) {
	if after, err = intParam(c, "after", 0, 0, 1<<62); err != nil {
		return 0, 0, err
	}
	limit, err = intParam(c, "limit", defaultListLimit, 1, maxListLimit)
	return after, limit, err
}

// intParam reads an optional integer query parameter within [lo, hi].
func intParam(c echo.Context, name string, def, lo, hi int64) (int64, error) {
	s := c.QueryParam(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < lo || v > hi {
		return 0, echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("%s must be a whole number from %d to %d", name, lo, hi))
	}
	return v, nil
}

// notificationID reads the route's :id; one that is not an id is 404,
// like an id with nothing behind it.
func notificationID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errNoNotification()
	}
	return id, nil
}

// formValue is a form field, or nil when the form did not send it.
func formValue(c echo.Context, name string) *string {
	form, err := c.FormParams()
	if err != nil || !form.Has(name) {
		return nil
	}
	v := form.Get(name)
	return &v
}

// deref is what a formValue holds, "" for none: for showing a form again.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// throughParam reads the optional `through` form field: a stream position.
func throughParam(c echo.Context) (int64, error) {
	s := c.FormValue("through")
	if s == "" {
		return store.NoLimit, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, echo.NewHTTPError(http.StatusBadRequest, "through must be a stream position (a number)")
	}
	return v, nil
}

// defaultChatRoom is the room /chat opens.
const defaultChatRoom = "general"

// chatRoomParam is the room the route names (general when none); a name
// models.ValidChatRoom refuses is 404.
func chatRoomParam(c echo.Context) (string, error) {
	room := c.Param("room")
	if room == "" && c.Path() == "/chat" {
		return defaultChatRoom, nil
	}
	if !models.ValidChatRoom(room) {
		return "", echo.NewHTTPError(http.StatusNotFound, "There is no chat room with that name: room names are "+models.ChatRoomRule+".")
	}
	return room, nil
}
