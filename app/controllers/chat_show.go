package controllers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/chat"
	"beacon/app/models"
	"beacon/views/pages"
)

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
