package controllers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/chat"
	"beacon/app/models"
	"beacon/views/pages"
)

// defaultChatRoom is the room /chat opens.
const defaultChatRoom = "general"

// chatShow renders a chat room: its last messages for a signed-in user,
// a prompt to sign in for a visitor. The page's script then follows the
// room over its WebSocket.
func (ctl *Controller) chatShow(c echo.Context) error {
	room, err := chatRoomParam(c)
	if err != nil {
		return err
	}
	var ms []models.ChatMessage
	if auth.CurrentUser(c) != nil {
		if ms, err = ctl.Store.RecentChatMessages(c.Request().Context(), room, chat.History); err != nil {
			return err
		}
	}
	return render(c, http.StatusOK, pages.Chat(ctl.page(c, "#"+room+" · Chat"), room, ms))
}

// chatRoomParam is the room the route names (general when none): 1 to 40
// of a-z, 0-9, - and _, else 404.
func chatRoomParam(c echo.Context) (string, error) {
	room := c.Param("room")
	if room == "" && c.Path() == "/chat" {
		return defaultChatRoom, nil
	}
	if !validChatRoom(room) {
		return "", echo.NewHTTPError(http.StatusNotFound, "There is no chat room with that name: room names are 1 to 40 of a-z, 0-9, - and _.")
	}
	return room, nil
}

func validChatRoom(room string) bool {
	if len(room) < 1 || len(room) > 40 {
		return false
	}
	for _, r := range room {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
