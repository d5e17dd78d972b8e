// Package apptest runs the real Beacon app for tests: the same wiring as
// `beacon serve`, on a fresh SQLite file, behind httptest.NewServer, with
// real HTTP clients. Only tests import it.
package apptest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"beacon/app/config"
	"beacon/app/server"
	"beacon/app/store"
)

// App is a running Beacon instance.
type App struct {
	URL    string
	Store  *store.Store
	Server *httptest.Server
	app    *server.Server
	broker server.Broker // app's
	stop   context.CancelFunc
	done   chan error
	cfg    config.Config
	tune   server.Tuning
	log    *slog.Logger
	tls    bool
}

// Options change how the app under test is configured. Settings travel
// the one way production's do, as environment variables read by
// config.Load: the fields below are shorthands for some of them.
type Options struct {
	// Env is the app's environment, such as "SIGNUP": "false" or
	// "HEARTBEAT_INTERVAL": "20ms". SECRET_KEY_BASE is set for every test.
	Env map[string]string
	// DatabaseURL is DATABASE_URL; default: a new SQLite file in t.TempDir().
	DatabaseURL string
	// ChatRate, ChatBurst and AllowedOrigins are CHAT_RATE_LIMIT,
	// CHAT_RATE_BURST and ALLOWED_ORIGINS.
	ChatRate       float64
	ChatBurst      int
	AllowedOrigins []string
	// Retry shortens the reconnect delay streams tell browsers (default
	// 2s), which no setting reaches.
	Retry time.Duration
	// ReadBound shortens how long a request may take to send itself
	// (default 30s), which no setting reaches.
	ReadBound time.Duration
	// LimitRefresh shortens how often instances share their connection
	// counts (default 3s).
	LimitRefresh time.Duration
	// ResumeWindow sizes the hub's resume window; < 0 keeps none, so that
	// every replay reads the database.
	ResumeWindow int
	// PushRetry shortens the wait after a push's first failure (default
	// 10s), which no setting reaches.
	PushRetry time.Duration
	// TLS serves HTTPS (httptest's certificate, HTTP/1.1) to the app's
	// clients: streams then stay in their handler, where over plain HTTP
	// the hub takes their connections over.
	TLS bool
	// Log, when set, receives every line the app logs, from DEBUG up, so
	// that a test can read what an operator would.
	Log io.Writer
}

// environment is the app's environment under opts.
func (opts Options) environment(t testing.TB) map[string]string {
	env := map[string]string{"SECRET_KEY_BASE": "test-secret", "DATABASE_URL": opts.DatabaseURL}
	if env["DATABASE_URL"] == "" {
		env["DATABASE_URL"] = filepath.Join(t.TempDir(), "beacon.db")
	}
	if opts.ChatRate > 0 {
		env["CHAT_RATE_LIMIT"] = strconv.FormatFloat(opts.ChatRate, 'g', -1, 64)
	}
	if opts.ChatBurst > 0 {
		env["CHAT_RATE_BURST"] = strconv.Itoa(opts.ChatBurst)
	}
	if len(opts.AllowedOrigins) > 0 {
		env["ALLOWED_ORIGINS"] = strings.Join(opts.AllowedOrigins, ",")
	}
	for k, v := range opts.Env {
		env[k] = v
	}
	return env
}

// New starts the app and stops it when the test ends.
func New(t testing.TB, opts Options) *App {
	t.Helper()
	env := opts.environment(t)
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	if opts.Log != nil {
		log = slog.New(slog.NewTextHandler(opts.Log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if err := st.Migrate(context.Background(), log); err != nil {
		t.Fatal(err)
	}
	a := &App{Store: st, cfg: cfg, log: log, tls: opts.TLS, tune: server.Tuning{StreamRetry: opts.Retry,
		ReadBound: opts.ReadBound, LimitRefresh: opts.LimitRefresh, ResumeWindow: opts.ResumeWindow, PushRetry: opts.PushRetry}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a.start(t, ln)
	a.URL = a.Server.URL
	t.Cleanup(func() {
		a.Stop(t)
		a.Server.Close()
		st.Close()
	})
	return a
}

// start runs a new instance of the app, hubs and HTTP server, on ln.
func (a *App) start(t testing.TB, ln net.Listener) {
	t.Helper()
	b, err := server.NewBroker(a.cfg, a.Store, a.log)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	srv, err := server.New(context.Background(), a.cfg, a.Store, b, a.log, a.tune)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	a.app, a.broker, a.stop, a.done = srv, b, stop, make(chan error, 1)
	go func() { a.done <- srv.Run(ctx) }()
	a.Server = httptest.NewUnstartedServer(srv.Handler())
	a.Server.Listener.Close()
	a.Server.Listener = ln
	if a.tls {
		a.Server.StartTLS()
		return
	}
	a.Server.Start()
}

// Down stops the app as a shutdown does (streams end, chat sockets close
// with "going away") and closes its listener, so that clients' reconnects
// are refused until Up. The database stays, so tests may change it
// meanwhile, as another instance would.
func (a *App) Down(t testing.TB) {
	t.Helper()
	a.Stop(t)
	a.Server.CloseClientConnections()
	a.Server.Close()
}

// Up starts a new instance after Down, on the same address and database:
// to a browser, the server restarted. Sessions live in the database, so
// they survive.
func (a *App) Up(t testing.TB) {
	t.Helper()
	if a.stop != nil {
		t.Fatal("apptest: Up while the app is running; call Down first")
	}
	ln, err := net.Listen("tcp", a.Server.Listener.Addr().String())
	if err != nil {
		t.Fatalf("listen again on %s: %v", a.Server.Listener.Addr(), err)
	}
	a.start(t, ln)
}

// Stop ends the hubs, as a shutdown does: every stream and long poll ends.
func (a *App) Stop(t testing.TB) {
	if a.stop == nil {
		return
	}
	a.stop()
	a.stop = nil
	if err := <-a.done; err != nil {
		t.Errorf("hub run: %v", err)
	}
}

// Subscribers is how many streams and long polls the notification hub
// holds, as /metrics says: beacon_notification_subscribers.
func (a *App) Subscribers() int {
	const name = "beacon_notification_subscribers"
	// A collector that failed does not hide the others' figures.
	families, err := a.app.Metrics().Gather()
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return int(f.GetMetric()[0].GetGauge().GetValue())
		}
	}
	panic(fmt.Sprintf("apptest: the app's metrics have no %s (gather: %v)", name, err))
}

// Broker is the running instance's broker, for tests that follow its
// topics as a hub does.
func (a *App) Broker() server.Broker { return a.broker }

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
