// Package controllers holds Beacon's Echo handlers, one file per action.
// routes.go lists every route; errors.go answers every failure.
package controllers

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/broker"
	"beacon/app/chat"
	"beacon/app/models"
	"beacon/app/store"
	"beacon/app/stream"
	"beacon/views/components"
	"beacon/views/layouts"
)

// Store is what the controllers read and write.
type Store interface {
	auth.Users
	Health(ctx context.Context) error
	UserByEmail(ctx context.Context, email string) (models.User, error)
	Resolve(ctx context.Context, to []string) (store.Named, error)
	StoreAudience(ctx context.Context, named store.Named) (store.Addressed, error)
	GroupIDsOf(ctx context.Context, userID int64) ([]int64, error)
	CreateUser(ctx context.Context, u *models.User) error
	CreateOrReplaceNotification(ctx context.Context, n *models.Notification) (replaced bool, err error)
	NotificationByID(ctx context.Context, id int64) (models.Notification, error)
	UpdateNotification(ctx context.Context, id int64, p store.NotificationPatch) (models.Notification, error)
	WithdrawNotification(ctx context.Context, id int64) (models.Notification, error)
	LastVisiblePosition(ctx context.Context, userID int64) (int64, error)
	PrunedThrough(ctx context.Context) (int64, error)
	ListAfter(ctx context.Context, userID, after int64, limit int) (models.Replay, error)
	CreateNamedAPIToken(ctx context.Context, userID int64, name, tokenHash string) (models.APIToken, error)
	CreateReadToken(ctx context.Context, userID int64, name, tokenHash string) (models.APIToken, error)
	ReadTokens(ctx context.Context, userID int64) ([]models.APIToken, error)
	DeleteReadToken(ctx context.Context, userID, id int64) error
	APITokens(ctx context.Context, userID int64) ([]models.APIToken, error)
	DeleteAPIToken(ctx context.Context, id int64) (models.APIToken, error)
	RecentNotifications(ctx context.Context, userID int64, limit int) ([]models.Notification, error)
	FeedPage(ctx context.Context, userID int64, f store.FeedFilter, limit int) ([]models.Notification, error)
	SetArchived(ctx context.Context, userID, id int64, archived bool) error
	PreferencesOf(ctx context.Context, userID int64) (models.Preferences, error)
	SavePreferences(ctx context.Context, p models.Preferences) error
	NotificationStates(ctx context.Context, userID int64, ids []int64) (read, archived []int64, err error)
	LatestNotifications(ctx context.Context, limit int) ([]models.Notification, error)
	RecentChatMessages(ctx context.Context, room string, limit int) ([]models.ChatMessage, error)
	UnreadCount(ctx context.Context, userID, through int64) (int64, error)
	ReadNotificationIDs(ctx context.Context, userID int64, ids []int64) (map[int64]bool, error)
	MarkRead(ctx context.Context, userID, notificationID int64) error
	MarkUnread(ctx context.Context, userID, notificationID int64) error
	StateSeq(ctx context.Context, userID int64) (int64, error)
	MarkAllRead(ctx context.Context, userID, through int64) error
	Groups(ctx context.Context) ([]models.Group, error)
	GroupByName(ctx context.Context, name string) (models.Group, error)
	GroupMembers(ctx context.Context) (map[int64][]models.User, error)
	CreateGroup(ctx context.Context, name string, open bool) (models.Group, error)
	DeleteGroup(ctx context.Context, name string) (members []int64, err error)
	SavePushSubscription(ctx context.Context, sub *models.PushSubscription) (created bool, err error)
	DeletePushSubscription(ctx context.Context, userID int64, endpoint string) error
	DeletePushSubscriptionByID(ctx context.Context, userID, id int64) error
	PushSubscriptionsOf(ctx context.Context, userID int64) ([]models.PushSubscription, error)
	AddGroupMembers(ctx context.Context, name string, emails []string) (added []int64, err error)
	RemoveGroupMembers(ctx context.Context, name string, emails []string) (removed []int64, err error)
	OpenGroups(ctx context.Context, userID int64) ([]models.Topic, error)
	FollowGroup(ctx context.Context, userID int64, name string) error
	LeaveGroup(ctx context.Context, userID int64, name string) error
	FollowProviderGroups(ctx context.Context, userID int64, names []string) (changed bool, err error)
	GrantAdmin(ctx context.Context, userID int64) error
	RevokeAdmin(ctx context.Context, email string) (models.User, error)
}

// NotificationStreams serves the live side of notifications: the SSE
// stream and the long poll.
type NotificationStreams interface {
	Stream(ctx context.Context, w http.ResponseWriter, req stream.Request) error
	Unavailable(w http.ResponseWriter) error
	Wait(ctx context.Context, userID, after int64, limit int, timeout time.Duration) (models.Replay, error)
}

// ChatRooms serves chat connections.
type ChatRooms interface {
	Serve(ctx context.Context, conn *websocket.Conn, req chat.Request)
}

// LoginThrottle limits guessing at passwords.
type LoginThrottle interface {
	Begin(ctx context.Context, email, addr, device string) (*auth.LoginAttempt, time.Duration, error)
}

// SignupLimiter limits sign-ups per client address.
type SignupLimiter interface {
	Begin(ctx context.Context, addr string) (time.Duration, error)
}

// Controller carries what every action needs. Its fields are filled in
// one place, server.New.
type Controller struct {
	Store         Store
	Publisher     broker.Publisher
	Notifications NotificationStreams
	// Fragments remembers the notification fragments this instance
	// rendered, shared with its hub; nil renders every time.
	Fragments   *components.HTMLCache
	Chat        ChatRooms
	Sessions    *auth.Sessions
	Devices     *auth.Devices
	Throttle    LoginThrottle
	SignupLimit SignupLimiter
	Log         *slog.Logger
	// AllowedOrigins may open the chat WebSocket besides the request's own host.
	AllowedOrigins []string
	Signup         bool // SIGNUP: whether visitors may create accounts
	// PushKey is the VAPID public key browsers subscribe with (GET /push/key).
	PushKey string
	// PushHosts are the push services a subscription may name.
	PushHosts  []string
	TrustProxy bool // TRUST_PROXY: believe a local proxy's X-Forwarded-Proto
	// SSO is sign-in through an identity provider (OIDC_*); off when its
	// Provider is nil.
	SSO SSO
	// PasswordLogin is PASSWORD_LOGIN: false hides the password form and
	// refuses POST /login.
	PasswordLogin bool
}

// page is the layout's view of this request, with the user's unread count.
func (ctl *Controller) page(c echo.Context, title string) layouts.Page {
	return ctl.pageThrough(c, title, store.NoLimit)
}

// pageThrough is page with the unread count limited to notifications that
// became visible at or before position through: the feed's newest, so
// that the count and the stream that resumes after it add up.
func (ctl *Controller) pageThrough(c echo.Context, title string, through int64) layouts.Page {
	p := ctl.basePage(c, title)
	if u := auth.CurrentUser(c); u != nil {
		n, err := ctl.Store.UnreadCount(c.Request().Context(), u.ID, through)
		if err != nil && !clientGone(c.Request(), err) {
			// The page is still worth showing without its count.
			ctl.Log.Warn("unread count", "user", u.ID, "err", err)
		}
		p.Unread = n
	}
	return p
}

// basePage is the layout's view without queries, for error pages. A
// signed-in user's pages all carry forms (sign out, at least), so they get
// a CSRF token; a visitor's get one only from formPage.
func (ctl *Controller) basePage(c echo.Context, title string) layouts.Page {
	p := layouts.Page{Title: title, User: auth.CurrentUser(c), Signup: ctl.Signup}
	if p.User != nil {
		t, err := ctl.Sessions.CSRFToken(c)
		if err != nil {
			// The page is still worth showing; its forms will ask to reload.
			ctl.Log.Warn("csrf token", "user", p.User.ID, "err", err)
		}
		p.CSRF = t
	}
	return p
}

// formPage is page for the forms a visitor fills in (sign-in, sign-up):
// they need a CSRF token, and with it a session.
func (ctl *Controller) formPage(c echo.Context, title string) (layouts.Page, error) {
	p := ctl.page(c, title)
	if p.CSRF == "" {
		t, err := ctl.Sessions.CSRFToken(c)
		if err != nil {
			return p, err
		}
		p.CSRF = t
	}
	return p, nil
}
