// Package apptest runs the real Beacon app for tests: the same wiring as
// `beacon serve`, on a fresh SQLite file, behind httptest.NewServer, with
// real HTTP clients. Only tests import it.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"beacon/app/auth"
	"beacon/app/config"
	"beacon/app/models"
	"beacon/app/server"
	"beacon/app/store"
)

// App is a running Beacon instance.
type App struct {
	URL    string
	Store  *store.Store
	Server *httptest.Server
	app    *server.Server
	stop   context.CancelFunc
	done   chan error
	cfg    config.Config
	tune   server.Tuning
	log    *slog.Logger
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
	if err := st.Migrate(context.Background(), log); err != nil {
		t.Fatal(err)
	}
	a := &App{Store: st, cfg: cfg, tune: server.Tuning{StreamRetry: opts.Retry, ReadBound: opts.ReadBound, LimitRefresh: opts.LimitRefresh}, log: log}
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
	srv, err := server.New(context.Background(), a.cfg, a.Store, a.log, a.tune)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	a.app, a.stop, a.done = srv, stop, make(chan error, 1)
	go func() { a.done <- srv.Run(ctx) }()
	a.Server = httptest.NewUnstartedServer(srv.Handler())
	a.Server.Listener.Close()
	a.Server.Listener = ln
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

// Subscribers is how many streams and long polls the notification hub holds.
func (a *App) Subscribers() int { return a.app.NotificationSubscribers() }

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// CreateUser stores a user with this password, hashed at bcrypt's lowest
// cost: signing in works the same, and tests under -race stay quick.
func (a *App) CreateUser(t testing.TB, name, email, password string, admin bool) models.User {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	u := models.User{Name: name, Email: email, PasswordHash: string(hash), Admin: admin}
	if err := a.Store.CreateUser(context.Background(), &u); err != nil {
		t.Fatal(err)
	}
	return u
}

// The admin WithAdmin creates.
const (
	AdminEmail    = "ada@example.com"
	AdminPassword = "correct horse"
)

// WithAdmin starts the app with an admin, Ada (AdminEmail, AdminPassword),
// and returns her with an API token of hers.
func WithAdmin(t testing.TB, opts Options) (*App, models.User, string) {
	t.Helper()
	a := New(t, opts)
	admin := a.CreateUser(t, "Ada", AdminEmail, AdminPassword, true)
	return a, admin, a.Token(t, admin)
}

// Notify posts a notification through the JSON API, as another system
// would, and returns its id; anything but 201 fails the test.
func (a *App) Notify(t testing.TB, token string, n map[string]string) int64 {
	t.Helper()
	resp, out := a.PostAPI(t, token, n)
	var created struct{ ID int64 }
	if resp.StatusCode != http.StatusCreated || json.Unmarshal([]byte(out), &created) != nil || created.ID == 0 {
		t.Fatalf("POST /api/notifications: %d %s", resp.StatusCode, out)
	}
	return created.ID
}

// Token stores a new API token for u and returns it.
func (a *App) Token(t testing.TB, u models.User) string {
	t.Helper()
	token, hash := auth.NewAPIToken()
	if err := a.Store.CreateAPIToken(context.Background(), u.ID, hash); err != nil {
		t.Fatal(err)
	}
	return token
}

// Client is a browser-like client: it keeps cookies and does not follow
// redirects, so tests see the 303s.
type Client struct {
	*http.Client
	// Header is added to every request the client makes.
	Header http.Header
	app    *App

	mu                sync.Mutex
	csrf, csrfSession string // the token CSRF read, and the session it is for
}

// Client returns a new client with an empty cookie jar.
func (a *App) Client(t testing.TB) *Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{Header: http.Header{}, app: a}
	c.Client = &http.Client{
		Jar:           jar,
		Transport:     headerTransport{c},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

// headerTransport adds the client's Header to each request.
type headerTransport struct{ c *Client }

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if len(h.c.Header) > 0 {
		r = r.Clone(r.Context())
		for k, vs := range h.c.Header {
			r.Header[k] = vs
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// Cookie returns the value of the client's cookie called name, or "".
func (c *Client) Cookie(name string) string {
	u, _ := url.Parse(c.app.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// SetCookie gives the client a cookie, as if the server had set it.
func (c *Client) SetCookie(name, value string) {
	u, _ := url.Parse(c.app.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// URL is the absolute address of path on the app.
func (c *Client) URL(path string) string { return c.app.URL + path }

// Get fetches path and returns the response with its body read.
func (c *Client) Get(t testing.TB, path string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Client.Get(c.app.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}

// CSRF returns a token for the client's forms, read from a page as a
// browser's form carries it: the sign-in form for a visitor, the feed once
// signed in. A token stays good while the session does, so one is kept
// until the session cookie changes.
func (c *Client) CSRF(t testing.TB) string {
	t.Helper()
	c.mu.Lock()
	session, token := c.csrfSession, c.csrf
	c.mu.Unlock()
	if token != "" && session == c.Cookie(sessionCookie) {
		return token
	}
	resp, body := c.Get(t, "/login")
	if resp.StatusCode == http.StatusSeeOther {
		_, body = c.Get(t, "/")
	}
	token = FormCSRF(body)
	if token == "" {
		t.Fatalf("no _csrf field on the sign-in form or the feed:\n%s", body)
	}
	c.mu.Lock()
	c.csrfSession, c.csrf = c.Cookie(sessionCookie), token
	c.mu.Unlock()
	return token
}

// sessionCookie is the name of Beacon's session cookie.
const sessionCookie = "beacon_session"

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

// FormCSRF is the value of the first _csrf field in page, or "".
func FormCSRF(page string) string {
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// PostForm posts form to path with the client's CSRF token added.
func (c *Client) PostForm(t testing.TB, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", c.CSRF(t))
	return c.PostFormRaw(t, path, form)
}

// PostFormRaw posts form exactly as given.
func (c *Client) PostFormRaw(t testing.TB, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.Client.PostForm(c.app.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}

// Login signs the client in and fails the test unless it worked.
func (c *Client) Login(t testing.TB, email, password string) {
	t.Helper()
	resp, body := c.PostForm(t, "/login", url.Values{"email": {email}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: status %d, want 303\n%s", email, resp.StatusCode, body)
	}
}

// Signup creates an account through the sign-up form (which also signs
// the client in) and fails the test unless it worked.
func (c *Client) Signup(t testing.TB, name, email, password string) {
	t.Helper()
	resp, body := c.PostForm(t, "/signup", url.Values{"name": {name}, "email": {email}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("signup %s: status %d, want 303\n%s", email, resp.StatusCode, body)
	}
}

// Logout signs the client out and fails the test unless it worked.
func (c *Client) Logout(t testing.TB) {
	t.Helper()
	resp, body := c.PostForm(t, "/logout", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: status %d, want 303\n%s", resp.StatusCode, body)
	}
}

func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// PostAPI posts body as JSON to the notifications API with a bearer token
// ("" sends none), as another system would.
func (a *App) PostAPI(t testing.TB, token string, body any) (*http.Response, string) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, a.URL+"/api/notifications", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}
