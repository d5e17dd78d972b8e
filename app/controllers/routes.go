package controllers

import (
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"beacon/app/auth"
	"beacon/app/limits"
)

// contentSecurityPolicy allows only our own scripts and styles, and no
// framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// Where the long-lived routes are, besides streamPath: they stay open by
// design, so read bounds and slow-request warnings leave them alone.
const (
	pollPath   = "/api/notifications/poll"
	chatWSPath = "/chat/:room/ws"
)

// uncompressed keeps compression off what must not be buffered (the event
// stream, WebSocket upgrades), off /metrics, which compresses itself, and
// off the API's writes: a kilobyte's answer to a post cost more CPU to
// compress (a quarter of an instance's, at 64 concurrent posters) than
// the post itself.
func uncompressed(c echo.Context) bool {
	r := c.Request()
	return r.URL.Path == streamPath || r.URL.Path == "/metrics" || strings.Contains(r.Header.Get("Accept"), "text/event-stream") ||
		strings.EqualFold(r.Header.Get("Upgrade"), "websocket") ||
		strings.HasPrefix(r.URL.Path, "/api/") && r.Method != http.MethodGet && r.Method != http.MethodHead
}

// Routes is Beacon's table of contents: every middleware and route.
func (ctl *Controller) Routes(e *echo.Echo, ops Ops) {
	e.HTTPErrorHandler = ctl.HandleError
	if ops.ReadBound <= 0 {
		ops.ReadBound = DefaultReadBound
	}
	if ops.Limits == nil {
		ops.Limits = limits.New(limits.Options{}, nil, ctl.Log)
	}
	if ops.Draining == nil {
		ops.Draining = context.Background()
	}
	e.Use(
		requestLog(ctl.Log, slowRequest),
		// Before readRequest, so that its refusals carry the headers too.
		middleware.SecureWithConfig(middleware.SecureConfig{
			ContentTypeNosniff:    "nosniff",
			XFrameOptions:         "DENY",
			ReferrerPolicy:        "same-origin",
			ContentSecurityPolicy: contentSecurityPolicy,
		}),
		readRequest(ops.ReadBound, ops.Draining),
		middleware.Recover(),
		auth.HTTPS(ctl.TrustProxy),
		middleware.GzipWithConfig(middleware.GzipConfig{Skipper: uncompressed}),
	)

	// These answer without sessions: a health check must report the
	// database, not fail on the session lookup.
	e.GET("/healthz", ctl.healthShow)
	// Uptime monitors often ask with HEAD; net/http sends no body for it.
	e.HEAD("/healthz", ctl.healthShow)
	if ops.MetricsToken != "" { // unset: no route, so /metrics is 404
		e.GET("/metrics", metricsShow(ops.MetricsToken, ops.Metrics))
	}
	e.GET("/push/key", ctl.pushKeyShow)
	e.GET("/assets/:name", ctl.assetShow)
	e.GET("/favicon.ico", ctl.faviconShow)
	e.GET("/sw.js", ctl.swShow)

	// The long-lived routes hold a lease each (STREAM_LIMIT_USER,
	// STREAM_LIMIT_ADDRESS) once the user is known.
	limit := limitConnections(ops.Limits)
	site := e.Group("", ctl.Sessions.Load, auth.LoadUser(ctl.Sessions, ctl.Store), auth.PrivateCache, ctl.Sessions.CheckCSRF)
	// What a person reads, a script may read with their token (Bearer).
	bearer := auth.BearerUser(ctl.Store)
	site.GET("/", ctl.feedShow)
	site.HEAD("/", ctl.feedShow)
	// No compression or timeout middleware may wrap the stream.
	site.GET(streamPath, ctl.streamShow, bearer, limit)
	site.POST("/notifications/:id/read", ctl.notificationRead(true), auth.RequireUser)
	site.POST("/notifications/:id/unread", ctl.notificationRead(false), auth.RequireUser)
	site.POST("/notifications/read_all", ctl.notificationsReadAll, auth.RequireUser)
	site.POST("/notifications/:id/archive", ctl.notificationArchive(true), auth.RequireUser)
	site.POST("/notifications/:id/unarchive", ctl.notificationArchive(false), auth.RequireUser)
	site.GET("/notifications/:id/open", ctl.notificationOpen, auth.RequireUser)

	site.GET("/settings", ctl.settingsShow, auth.RequireUser)
	site.POST("/settings", ctl.settingsUpdate, auth.RequireUser)
	site.POST("/settings/devices/:id/remove", ctl.deviceRemove, auth.RequireUser)
	site.POST("/settings/tokens", ctl.readTokenCreate, auth.RequireUser)
	site.POST("/settings/tokens/:id/revoke", ctl.readTokenRevoke, auth.RequireUser)
	site.GET("/topics", ctl.topicsIndex, auth.RequireUser)
	site.POST("/topics/:name/follow", ctl.topicFollow, auth.RequireUser)
	site.POST("/topics/:name/leave", ctl.topicLeave, auth.RequireUser)

	// A page's script subscribes this browser to Web Push: 401, not a
	// redirect, without a user, and that before the CSRF check.
	pushSubs := e.Group("/push/subscriptions", ctl.Sessions.Load, auth.LoadUser(ctl.Sessions, ctl.Store), auth.PrivateCache,
		requireUserJSON, ctl.Sessions.CheckCSRF)
	pushSubs.POST("", ctl.pushSubscriptionCreate)
	pushSubs.DELETE("", ctl.pushSubscriptionDelete)

	site.GET("/chat", ctl.chatShow)
	site.GET("/chat/:room", ctl.chatShow)
	// A hijacked connection: no compression or timeout middleware either.
	site.GET(chatWSPath, ctl.chatWS, limit)

	site.GET("/login", ctl.sessionNew)
	site.POST("/login", ctl.sessionCreate)
	site.POST("/logout", ctl.sessionDestroy)
	if ctl.SSO.Provider != nil { // OIDC_ISSUER unset: no routes, so these are 404
		site.GET("/auth/oidc", ctl.ssoStart)
		site.GET(ssoCallbackPath, ctl.ssoCallback)
	}
	if ctl.Signup { // SIGNUP=false: no route, so /signup is 404
		site.GET("/signup", ctl.signupNew)
		site.POST("/signup", ctl.signupCreate)
	}

	api := site.Group("/api")
	api.GET("/notifications", ctl.apiNotificationsIndex, bearer)
	site.GET(pollPath, ctl.apiNotificationsPoll, bearer, limit)
	api.POST("/notifications", ctl.apiNotificationCreate, auth.RequireAPIAdmin(ctl.Store))
	api.POST("/notifications/batch", ctl.apiNotificationBatchCreate, auth.RequireAPIAdmin(ctl.Store))
	api.PATCH("/notifications/:id", ctl.apiNotificationUpdate, auth.RequireAPIAdmin(ctl.Store))
	api.DELETE("/notifications/:id", ctl.apiNotificationWithdraw, auth.RequireAPIAdmin(ctl.Store))

	admin := site.Group("/admin", auth.RequireAdmin)
	admin.GET("/notifications", ctl.notificationsIndex)
	admin.GET("/notifications/new", ctl.notificationNew)
	admin.POST("/notifications", ctl.notificationCreate)
	admin.GET("/notifications/:id/edit", ctl.notificationEdit)
	admin.POST("/notifications/:id", ctl.notificationUpdate)
	admin.POST("/notifications/:id/withdraw", ctl.notificationWithdraw)
	admin.GET("/tokens", ctl.tokensIndex)
	admin.POST("/tokens", ctl.tokenCreate)
	admin.POST("/tokens/:id/revoke", ctl.tokenRevoke)
	admin.GET("/groups", ctl.groupsIndex)
	admin.POST("/groups", ctl.groupCreate)
	admin.POST("/groups/:name/add", ctl.groupMemberAdd)
	admin.POST("/groups/:name/remove", ctl.groupMemberRemove)
	admin.POST("/groups/:name/delete", ctl.groupDelete)
}
