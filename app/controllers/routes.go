package controllers

import (
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"beacon/app/auth"
)

// contentSecurityPolicy allows only our own scripts and styles, and no
// framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// Routes is Beacon's table of contents: every middleware and route.
func (ctl *Controller) Routes(e *echo.Echo, assets fs.FS, metrics http.Handler) {
	e.HTTPErrorHandler = ctl.HandleError
	e.Use(
		middleware.Recover(),
		middleware.SecureWithConfig(middleware.SecureConfig{
			ContentTypeNosniff:    "nosniff",
			XFrameOptions:         "DENY",
			ReferrerPolicy:        "same-origin",
			ContentSecurityPolicy: contentSecurityPolicy,
		}),
		middleware.BodyLimit("1M"),
		ctl.Sessions.Load,
		auth.LoadUser(ctl.Sessions, ctl.Store),
		auth.CSRF(),
	)

	e.GET("/healthz", ctl.healthShow)
	e.GET("/metrics", echo.WrapHandler(metrics))
	e.StaticFS("/assets", assets)

	e.GET("/", ctl.feedShow)
	// No compression or timeout middleware may wrap the stream.
	e.GET("/notifications/stream", ctl.streamShow)
	e.POST("/notifications/:id/read", ctl.notificationRead, auth.RequireUser)
	e.POST("/notifications/read_all", ctl.notificationsReadAll, auth.RequireUser)

	e.GET("/login", ctl.sessionsNew)
	e.POST("/login", ctl.sessionsCreate)
	e.POST("/logout", ctl.sessionsDestroy)
	if ctl.Signup { // SIGNUP=false: no route, so /signup is 404
		e.GET("/signup", ctl.signupNew)
		e.POST("/signup", ctl.signupCreate)
	}

	api := e.Group("/api")
	api.GET("/notifications", ctl.apiNotificationsIndex)
	api.GET("/notifications/poll", ctl.apiNotificationsPoll)
	api.POST("/notifications", ctl.apiNotificationsCreate, auth.RequireAPIAdmin(ctl.Store))

	admin := e.Group("/admin", auth.RequireAdmin)
	admin.GET("/notifications", ctl.adminNotificationsIndex)
	admin.GET("/notifications/new", ctl.adminNotificationsNew)
	admin.POST("/notifications", ctl.adminNotificationsCreate)
}
