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
	"golang.org/x/time/rate"

	"beacon/app/auth"
	"beacon/app/broker"
	"beacon/app/chat"
	"beacon/app/config"
	"beacon/app/controllers"
	"beacon/app/jobs"
	"beacon/app/limits"
	"beacon/app/push"
	"beacon/app/store"
	"beacon/app/stream"
	"beacon/migrations"
	"beacon/views/components"
)

// sessionCleanup is how often expired sessions are deleted.
const sessionCleanup = 30 * time.Minute

// Server is one Beacon instance: its HTTP handler and the hubs behind it.
type Server struct {
	echo          *echo.Echo
	notifications *stream.Hub
	chat          *chat.Hub
	stopSessions  func()
	listener      *broker.Postgres // nil on SQLite
	metrics       prometheus.Gatherer
	// jobs run beside the hubs: scheduled deliveries, the membership
	// watch, and pruning under RETENTION.
	jobs   []func(ctx context.Context) error
	limits *limits.Limiter
	// drain ends the routes' Draining context once Run's ends: requests
	// still sending their body are cut then, so they cannot hold up the
	// shutdown.
	drain context.CancelFunc
}

// Tuning is what tests shorten beyond the configuration: no setting reaches
// it. Production passes the zero value, which keeps the hubs' defaults.
type Tuning struct {
	StreamRetry time.Duration // the reconnect delay streams tell browsers
	ReadBound   time.Duration // how long an ordinary request may take to send itself
	// LimitRefresh is how often connection counts are shared between
	// instances (limits.DefaultRefresh when zero).
	LimitRefresh time.Duration
	// ResumeWindow is stream.Options.ResumeWindow: < 0 keeps no resume
	// window, so that every replay reads the database.
	ResumeWindow int
	// PushRetry is the wait after a push's first failure (default 10s).
	PushRetry time.Duration
}

// Broker carries the wake-ups of the hubs, the jobs and the controllers.
type Broker interface {
	broker.Subscriber
	broker.Publisher
	jobs.LocalWaker
}

// NewBroker returns the broker for st's database. On PostgreSQL every
// instance on the database hears every other's wake-ups; on SQLite there
// is one instance, and the broker is in-process.
func NewBroker(cfg config.Config, st *store.Store, log *slog.Logger) (Broker, error) {
	if st.Dialect() != migrations.Postgres {
		// `beacon token revoke` is another process: the database's
		// revocation number tells this one.
		st.CacheTokensByRevocations()
		return broker.NewMemory(), nil
	}
	pg, err := broker.NewPostgres(cfg.DatabaseURL, st.SQL(), log)
	if err != nil {
		return nil, err
	}
	// Every revocation reaches every instance through the broker, and
	// while the listener is down (it may miss one) nothing is cached;
	// after it reconnects, every subscriber is woken: forgotten too.
	st.CacheTokens(func() bool { return pg.Health().Connected })
	pg.SubscribeFunc(broker.TokensTopic, st.ForgetTokens)
	return pg, nil
}

// New builds the app over an open, migrated store and its broker (from
// NewBroker). A PostgreSQL broker's listener is the server's to run: Run
// runs it.
func New(ctx context.Context, cfg config.Config, st *store.Store, b Broker, log *slog.Logger, tune Tuning) (*Server, error) {
	listener, _ := b.(*broker.Postgres)
	// The API's answer to a post and the hub render the same fragment.
	fragments := components.NewHTMLCache(1024)
	hub, err := stream.NewHub(ctx, st, fragments.NotificationJSON, b, log, stream.Options{
		Heartbeat:    cfg.Heartbeat,
		Retry:        tune.StreamRetry,
		ResumeWindow: tune.ResumeWindow,
	})
	if err != nil {
		return nil, err
	}
	// Chat goes through the same broker, so that a broker reaching every
	// instance carries chat across instances too.
	chat, err := chat.NewHub(st, components.ChatMessageHTML, b, log, chat.Options{
		MessageRate:  rate.Limit(cfg.ChatRate),
		MessageBurst: cfg.ChatBurst,
	})
	if err != nil {
		return nil, err
	}

	// Every instance signs its pushes with one pair: the environment's, or
	// the one kept in the database (made by the first instance to start).
	pushKeys := cfg.WebPush
	if pushKeys == (push.Keys{}) {
		if pushKeys, err = st.WebPushKeys(ctx, push.NewKeys); err != nil {
			return nil, err
		}
	}

	var sessionStore scs.Store
	var stop func()
	if st.Dialect() == migrations.Postgres {
		ps := postgresstore.NewWithCleanupInterval(st.SQL(), sessionCleanup)
		sessionStore, stop = ps, ps.StopCleanup
	} else {
		ss := sqlite3store.NewWithCleanupInterval(st.SQL(), sessionCleanup)
		sessionStore, stop = ss, ss.StopCleanup
	}

	pushCounts := newPushMetrics()
	sender := push.NewSender(pushKeys, cfg.WebPushSubject, pushCounts, log, push.Options{Conns: pushConns, FirstRetry: tune.PushRetry, AllowedHosts: cfg.WebPushAllowedHosts})

	reg := prometheus.NewRegistry()
	reg.MustRegister(pushCounts.collectors(st)...)
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "beacon_notification_subscribers",
			Help: "Open notification streams and long polls on this instance.",
		}, func() float64 { return float64(hub.Subscribers()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "beacon_chat_connections",
			Help: "Open chat WebSockets on this instance.",
		}, func() float64 { return float64(chat.Connections()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "beacon_db_queries_total",
			Help: "SQL statements this instance's store has run (sessions' own are not counted).",
		}, func() float64 { return float64(st.Queries()) }),
	)
	if listener != nil {
		reg.MustRegister(listenerMetrics(listener)...)
	}

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
		Store:          st,
		Publisher:      b,
		Notifications:  hub,
		Fragments:      fragments,
		Chat:           chat,
		Sessions:       auth.NewSessions(sessionStore, cfg.SecretKeyBase),
		Devices:        auth.NewDevices(cfg.SecretKeyBase),
		Throttle:       auth.NewLoginThrottle(st, nil),
		SignupLimit:    auth.NewSignupLimit(st, cfg.SignupLimit, nil),
		Signup:         cfg.Signup,
		TrustProxy:     cfg.TrustProxy,
		SSO:            signOn(cfg.OIDC),
		PasswordLogin:  cfg.PasswordLogin,
		Log:            log,
		AllowedOrigins: cfg.AllowedOrigins,
		PushKey:        pushKeys.Public,
		PushHosts:      cfg.WebPushAllowedHosts,
	}
	// On PostgreSQL the connection limits count across instances through
	// the database; on SQLite this instance's counts are the truth.
	var shared limits.Shared
	if st.Dialect() == migrations.Postgres {
		shared = st
	}
	limiter := limits.New(limits.Options{
		PerUser:    cfg.StreamLimitUser,
		PerAddress: cfg.StreamLimitAddress,
		Refresh:    tune.LimitRefresh,
	}, shared, log)

	draining, drain := context.WithCancel(context.Background())
	ctl.Routes(e, controllers.Ops{
		Metrics:      promhttp.HandlerFor(reg, promhttp.HandlerOpts{}),
		MetricsToken: cfg.MetricsToken,
		ReadBound:    tune.ReadBound,
		Draining:     draining,
		Limits:       limiter,
	})
	jobList := []func(ctx context.Context) error{
		func(ctx context.Context) error { return jobs.DeliverScheduled(ctx, st, b, log) },
		// Built here, not in Run: a membership change committed once New
		// returns reaches this instance's streams.
		jobs.NewGroupWatch(ctx, st, b, log).Run,
		jobs.NewWebPush(st, b, sender, cfg.WebPushDelay, log).Run,
		func(ctx context.Context) error { return jobs.PruneStateChanges(ctx, st, log) },
	}
	if cfg.Retention > 0 {
		jobList = append(jobList, func(ctx context.Context) error { return jobs.PruneOld(ctx, st, cfg.Retention, log) })
	}
	return &Server{echo: e, notifications: hub, chat: chat, stopSessions: stop, listener: listener, metrics: reg, jobs: jobList,
		limits: limiter, drain: drain}, nil
}

// Handler is the app's HTTP handler.
func (s *Server) Handler() http.Handler { return s.echo }

// Metrics gathers the figures /metrics serves.
func (s *Server) Metrics() prometheus.Gatherer { return s.metrics }

// Run runs the hubs and the jobs until ctx ends; then every stream is ended and every
// chat WebSocket closed with "going away", so that browsers reconnect
// elsewhere.
func (s *Server) Run(ctx context.Context) error {
	defer s.stopSessions()
	defer context.AfterFunc(ctx, s.drain)()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return s.notifications.Run(ctx) })
	g.Go(func() error { return s.chat.Run(ctx) })
	g.Go(func() error { return s.limits.Run(ctx) })
	if s.listener != nil {
		g.Go(func() error { return s.listener.Run(ctx) })
	}
	for _, job := range s.jobs {
		g.Go(func() error { return job(ctx) })
	}
	return g.Wait()
}

// listenerMetrics are the PostgreSQL listener's health figures, the same
// that /healthz reports.
func listenerMetrics(p *broker.Postgres) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "beacon_listener_connected",
			Help: "1 while this instance's LISTEN connection to PostgreSQL is up.",
		}, func() float64 {
			if p.Health().Connected {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "beacon_listener_last_heard_seconds",
			Help: "Seconds since the LISTEN connection last delivered a notification or passed a check.",
		}, func() float64 { return p.Health().Since.Seconds() }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "beacon_listener_reconnects_total",
			Help: "Times the LISTEN connection was opened again after it dropped.",
		}, func() float64 { return float64(p.Health().Reconnects) }),
	}
}
