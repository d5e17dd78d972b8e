// Package server wires Beacon together: store → broker → hubs → routes. The
// serve command and the tests build the app through it, so the tests run
// the same wiring as production.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/alexedwards/scs/postgresstore"
	"github.com/alexedwards/scs/sqlite3store"
	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"beacon/app/auth"
	"beacon/app/broker"
	"beacon/app/channels"
	"beacon/app/config"
	"beacon/app/controllers"
	"beacon/app/store"
	"beacon/assets"
	"beacon/migrations"
	"beacon/views/components"
)

// sessionCleanup is how often expired sessions are deleted.
const sessionCleanup = 30 * time.Minute

// Server is one Beacon instance: its HTTP handler and the hubs behind it.
type Server struct {
	echo          *echo.Echo
	notifications *channels.NotificationHub
	stopSessions  func()
}

// New builds the app over an open, migrated store.
func New(cfg config.Config, st *store.Store, log *slog.Logger) *Server {
	b := broker.NewMemory()
	hub := channels.NewNotificationHub(st, components.NotificationHTML, b, log, channels.HubOptions{
		Heartbeat: cfg.Heartbeat,
		Retry:     cfg.Retry,
	})

	var sessionStore scs.Store
	var stop func()
	if st.Dialect() == migrations.Postgres {
		ps := postgresstore.NewWithCleanupInterval(st.SQL(), sessionCleanup)
		sessionStore, stop = ps, ps.StopCleanup
	} else {
		ss := sqlite3store.NewWithCleanupInterval(st.SQL(), sessionCleanup)
		sessionStore, stop = ss, ss.StopCleanup
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "beacon_notification_subscribers",
			Help: "Open notification streams and long polls on this instance.",
		}, func() float64 { return float64(hub.Subscribers()) }),
	)

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// c.RealIP keys sign-in throttling: by default Echo believes any
	// X-Forwarded-For, which would let a client pick its own address.
	if cfg.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	} else {
		e.IPExtractor = echo.ExtractIPDirect()
	}
	ctl := &controllers.Controller{
		Store:         st,
		Publisher:     b,
		Notifications: hub,
		Sessions:      auth.NewSessions(sessionStore, cfg.SecretKeyBase),
		Throttle:      auth.NewLoginThrottle(st, nil),
		Signup:        cfg.Signup,
		Render:        components.NotificationHTML,
		Log:           log,
	}
	ctl.Routes(e, assets.Files, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return &Server{echo: e, notifications: hub, stopSessions: stop}
}

// Handler is the app's HTTP handler.
func (s *Server) Handler() http.Handler { return s.echo }

// Run runs the hubs until ctx ends; then every stream is ended, so that
// browsers reconnect elsewhere.
func (s *Server) Run(ctx context.Context) error {
	defer s.stopSessions()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.notifications.Run(ctx) })
	return g.Wait()
}
