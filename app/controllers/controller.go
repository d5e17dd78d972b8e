// Package controllers holds Beacon's Echo handlers, one file per action.
// routes.go lists every route; errors.go answers every failure.
package controllers

import (
	"bytes"
	"context"
	"log/slog"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/channels"
	"beacon/app/models"
	"beacon/views/layouts"
)

// Store is what the controllers read and write.
type Store interface {
	auth.Users
	Ping(ctx context.Context) error
	UserByEmail(ctx context.Context, email string) (models.User, error)
	CreateNotification(ctx context.Context, n *models.Notification) error
	NotificationsAfter(ctx context.Context, userID, after int64, limit int) ([]models.Notification, error)
	RecentNotifications(ctx context.Context, userID int64, limit int) ([]models.Notification, error)
	LatestNotifications(ctx context.Context, limit int) ([]models.Notification, error)
	RecentChatMessages(ctx context.Context, room string, limit int) ([]models.ChatMessage, error)
}

// Publisher tells every hub that a row was committed.
type Publisher interface {
	Publish(ctx context.Context, topic string, id int64) error
}

// Controller carries what every action needs. Its fields are filled in
// one place, server.New.
type Controller struct {
	Store         Store
	Publisher     Publisher
	Notifications *channels.NotificationHub
	Chat          *channels.ChatHub
	Sessions      *auth.Sessions
	Render        channels.Renderer
	Log           *slog.Logger
	// AllowedOrigins may open the chat WebSocket besides the request's own host.
	AllowedOrigins []string
}

// page is the layout's view of this request.
func page(c echo.Context, title string) layouts.Page {
	return layouts.Page{Title: title, User: auth.CurrentUser(c), CSRF: auth.CSRFToken(c)}
}

// render writes a templ component as the whole response. It renders to a
// buffer first, so a failure is a clean 500 rather than half a page.
func render(c echo.Context, status int, component templ.Component) error {
	var buf bytes.Buffer
	if err := component.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}
