// Package controllers holds Beacon's Echo handlers, one file per action.
// routes.go lists every route; errors.go answers every failure.
package controllers

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/a-h/templ"
	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/channels"
	"beacon/app/models"
	"beacon/app/store"
	"beacon/views/layouts"
)

// Store is what the controllers read and write.
type Store interface {
	auth.Users
	Health(ctx context.Context) error
	UserByEmail(ctx context.Context, email string) (models.User, error)
	CreateUser(ctx context.Context, u *models.User) error
	CreateNotification(ctx context.Context, n *models.Notification) error
	NotificationsAfter(ctx context.Context, userID, after int64, limit int) ([]models.Notification, error)
	RecentNotifications(ctx context.Context, userID int64, limit int) ([]models.Notification, error)
	LatestNotifications(ctx context.Context, limit int) ([]models.Notification, error)
	RecentChatMessages(ctx context.Context, room string, limit int) ([]models.ChatMessage, error)
	UnreadCount(ctx context.Context, userID, through int64) (int64, error)
	ReadNotificationIDs(ctx context.Context, userID int64, ids []int64) (map[int64]bool, error)
	MarkRead(ctx context.Context, userID, notificationID int64) error
	MarkAllRead(ctx context.Context, userID, through int64) error
}

// NotificationStreams serves the live side of notifications: the SSE
// stream and the long poll.
type NotificationStreams interface {
	Stream(ctx context.Context, w http.ResponseWriter, req channels.StreamRequest) error
	Unavailable(w http.ResponseWriter) error
	Wait(ctx context.Context, userID, after int64, limit int, timeout time.Duration) ([]models.Notification, error)
}

// ChatRooms serves chat connections.
type ChatRooms interface {
	Serve(ctx context.Context, conn *websocket.Conn, user models.User, room string, after int64, signedIn func() bool)
}

// Publisher wakes every hub serving a topic once a change is committed.
type Publisher interface {
	Publish(ctx context.Context, topic string) error
}

// LoginThrottle limits guessing at passwords.
type LoginThrottle interface {
	Begin(ctx context.Context, email, addr string) (*auth.LoginAttempt, time.Duration, error)
}

// Controller carries what every action needs. Its fields are filled in
// one place, server.New.
type Controller struct {
	Store         Store
	Publisher     Publisher
	Notifications NotificationStreams
	Chat          ChatRooms
	Sessions      *auth.Sessions
	Throttle      LoginThrottle
	Log           *slog.Logger
	// AllowedOrigins may open the chat WebSocket besides the request's own host.
	AllowedOrigins []string
	Signup         bool // SIGNUP: whether visitors may create accounts
}

// page is the layout's view of this request, with the user's unread count.
func (ctl *Controller) page(c echo.Context, title string) layouts.Page {
	return ctl.pageThrough(c, title, store.NoLimit)
}

// pageThrough is page with the unread count limited to ids up to through:
// the feed's newest, so that the count and the stream that resumes after
// it add up.
func (ctl *Controller) pageThrough(c echo.Context, title string, through int64) layouts.Page {
	p := ctl.basePage(c, title)
	if u := auth.CurrentUser(c); u != nil {
		n, err := ctl.Store.UnreadCount(c.Request().Context(), u.ID, through)
		if err != nil {
			// The page is still worth showing without its count.
			ctl.Log.Warn("unread count", "user", u.ID, "err", err)
		}
		p.Unread = n
	}
	return p
}

// basePage is the layout's view without queries, for error pages.
func (ctl *Controller) basePage(c echo.Context, title string) layouts.Page {
	return layouts.Page{Title: title, User: auth.CurrentUser(c), CSRF: auth.CSRFToken(c), Signup: ctl.Signup}
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
