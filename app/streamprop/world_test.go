package streamprop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"beacon/app/apptest"
)

// The shape of a run at scale 1; BEACON_PROPERTY_SCALE multiplies rounds.
const (
	roundsPerScale = 40
	users          = 4
	maxAtOnce      = 5  // operations one round runs at once
	maxDrops       = 3  // clients one round may drop
	churnRate      = 40 // percent chance of each of those drops
	restartRate    = 3  // percent of rounds after which an instance restarts
	maxAPIErrors   = 20 // unexpected API answers before the run stops
	userPassword   = "a long password"
)

// world is one run: the instances, the admin who posts, the users and
// their clients, and what the test did to each notification. Only the test
// goroutine draws from rng and plans; operations run on their own
// goroutines and share notes, history and stats under mu.
type world struct {
	t         *testing.T
	rng       *rand.Rand
	apps      []*apptest.App
	api       *http.Client
	token     string
	admin     *apptest.Client // signed in on the first instance, for /admin/groups
	adminCSRF string
	users     []*user
	clients   []*client
	rounds    int
	seq       int  // numbers titles and secrets
	shared    bool // the instances share PostgreSQL, and LISTEN

	// apiErrors counts unexpected answers, reported as they come.
	apiErrors int

	mu sync.Mutex
	// everIn is who was ever in each group (by name, then user id); a
	// post to a group may reach its members of any time, since a stream
	// sends what the membership was when it looked.
	everIn map[string]map[int64]bool
	// membership counts each user's changes of groups, under way or done.
	membership map[int64]int
	// audiences are the audiences of posts to a list, by their secret's
	// number: the users named and the groups.
	audiences map[int]audienceSpec
	notes     map[int64]*note // live (not withdrawn) notifications by id
	withdrawn map[int64]bool
	// readdressed are the notifications given a new audience, from before
	// the change commits: one may reach a client again after it lost it.
	readdressed map[int64]bool
	history     map[int64][]string // what the test did to each notification
	stats       map[string]int
}

// user is a signed-in person; their tabs share one browser session.
type user struct {
	id    int64
	name  string
	email string
	web   *apptest.Client
	csrf  string
}

// note is what the test knows of a live notification it posted.
type note struct {
	id        int64
	to        *user // nil: everyone, unless listed
	listed    bool  // posted to a list of users and groups (audienceSpec)
	scheduled bool  // posted to wait; mark-read leaves it alone
}

// audienceSpec is a post's list: users and groups.
type audienceSpec struct {
	users  []*user
	groups []string
}

// The groups: an open one, which users follow and leave themselves, and
// a closed one, whose members an admin changes.
const (
	topicGroup  = "team-a"
	closedGroup = "team-b"
)

func newWorld(t *testing.T, s settings, variant uint64, shared bool, apps []*apptest.App) *world {
	t.Helper()
	w := &world{
		t: t, rng: rand.New(rand.NewPCG(s.seed, variant)), apps: apps, shared: shared,
		api:    &http.Client{Timeout: 30 * time.Second},
		rounds: roundsPerScale * s.scale,
		notes:  map[int64]*note{}, withdrawn: map[int64]bool{}, readdressed: map[int64]bool{}, history: map[int64][]string{}, stats: map[string]int{},
		everIn: map[string]map[int64]bool{topicGroup: {}, closedGroup: {}}, audiences: map[int]audienceSpec{},
		membership: map[int64]int{},
	}
	admin := apps[0].CreateUser(t, "Ada", apptest.AdminEmail, apptest.AdminPassword, true)
	w.token = apps[0].Token(t, admin)
	w.admin = apps[0].Client(t)
	w.admin.Login(t, apptest.AdminEmail, apptest.AdminPassword)
	w.adminCSRF = w.admin.CSRF(t)
	for i := range users {
		name := fmt.Sprintf("person%d", i+1)
		u := apps[0].CreateUser(t, name, name+"@example.com", userPassword, false)
		web := apps[i%len(apps)].Client(t)
		web.Login(t, u.Email, userPassword)
		w.users = append(w.users, &user{id: u.ID, name: name, email: u.Email, web: web, csrf: web.CSRF(t)})
	}
	for _, g := range []string{topicGroup, closedGroup} {
		if _, err := apps[0].Store.CreateGroup(t.Context(), g, g == topicGroup); err != nil {
			t.Fatal(err)
		}
	}
	// Half the users in each group to begin with.
	for i, u := range w.users {
		g := []string{topicGroup, closedGroup}[i%2]
		if _, err := apps[0].Store.AddGroupMembers(t.Context(), g, []string{u.email}); err != nil {
			t.Fatal(err)
		}
		w.everIn[g][u.id] = true
	}
	tabs, visitors := 2+min(s.scale/4, 2), 2+min(s.scale/4, 2)
	for _, u := range w.users {
		for i := range tabs {
			w.clients = append(w.clients, newClient(w, fmt.Sprintf("%s (user %d) tab %d", u.name, u.id, i+1), u, u.web))
		}
	}
	for i := range visitors {
		w.clients = append(w.clients, newClient(w, fmt.Sprintf("visitor %d", i+1), nil, apps[i%len(apps)].Client(t)))
	}
	// Registered after the apps, so it runs before they stop.
	t.Cleanup(func() {
		for _, c := range w.clients {
			c.disconnect()
		}
	})
	// Each client starts as the feed page does: the list, then the stream
	// from where the list ends.
	for _, c := range w.clients {
		app := w.pickApp()
		if err := c.reload(t.Context(), app); err != nil {
			t.Fatalf("%s: first list: %v", c.name, err)
		}
		c.connect(app, c.lastID(), false)
	}
	return w
}

// pickApp is the instance the next request goes to.
func (w *world) pickApp() *apptest.App { return w.apps[w.rng.IntN(len(w.apps))] }

// instance names an app in reports: A, B, …
func (w *world) instance(app *apptest.App) string {
	for i, a := range w.apps {
		if a == app {
			return string(rune('A' + i))
		}
	}
	return "?"
}

// call sends one admin API request to app and returns the status and body.
func (w *world) call(ctx context.Context, app *apptest.App, method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, app.URL+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+w.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := w.api.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s on %s: %w", method, path, w.instance(app), err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// round plans up to maxAtOnce operations and runs them at once, so that
// several changes commit before a hub looks, while clients drop and
// resume, so that replays race the hubs' fan-out.
func (w *world) round() {
	ops := make([]op, 1+w.rng.IntN(maxAtOnce))
	touched := map[int64]bool{}
	for i := range ops {
		ops[i] = w.plan(touched)
	}
	errs := make([]error, len(ops))
	var wg sync.WaitGroup
	for i, o := range ops {
		wg.Go(func() { errs[i] = o(w.t.Context()) })
	}
	w.churn()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			w.apiErrors++
			w.t.Error(err)
		}
	}
}

// maybeRestart may restart an instance between rounds, as a deploy does:
// its streams end and their clients resume, on a hub whose resume window
// starts afresh, so that cursors from before it replay from the database.
func (w *world) maybeRestart() {
	if w.rng.IntN(100) >= restartRate {
		return
	}
	app := w.pickApp()
	app.Down(w.t)
	// Its connections are gone, and a POST sent on one before the client
	// saw it close fails (net/http sends again only what may be sent
	// twice): drop them, as a load balancer drops its connections to an
	// instance it stopped.
	w.api.CloseIdleConnections()
	app.Up(w.t)
	if w.shared {
		waitListening(w.t, app) // as a load balancer waits for /healthz
	}
	w.count("restarts")
}

// forgedCursors are Last-Event-IDs no stream sent: each must get `reset`.
var forgedCursors = []string{"999999999999", "not-a-position", "-7", "+3"}

// churn counts down the clients that are away, and may drop some: to
// resume at once, to stay away for a while or long (to the end, at a
// large scale, far enough to replay from the database or be reset), or to
// come back with a forged cursor.
func (w *world) churn() {
	for _, c := range w.clients {
		if c.away > 0 {
			if c.away--; c.away == 0 {
				c.connect(w.pickApp(), c.lastID(), false)
			}
		}
	}
	for range maxDrops {
		if w.rng.IntN(100) < churnRate {
			w.drop(w.clients[w.rng.IntN(len(w.clients))])
		}
	}
}

// drop disconnects c, unless it is away, and brings it back one of the
// ways churn says.
func (w *world) drop(c *client) {
	if c.away > 0 {
		return
	}
	c.disconnect()
	switch r := w.rng.IntN(100); {
	case r < 50:
		w.count("resume at once")
		c.connect(w.pickApp(), c.lastID(), false)
	case r < 62:
		w.count("away long")
		c.away = w.rounds/3 + w.rng.IntN(w.rounds/6+1)
	case r < 67:
		w.count("away until the end")
		c.away = w.rounds + 1 // settle brings it back
	case r < 85:
		w.count("away a while")
		c.away = 1 + w.rng.IntN(8)
	default:
		w.count("forged cursor")
		c.connect(w.pickApp(), forgedCursors[w.rng.IntN(len(forgedCursors))], true)
	}
}

// record notes what the test did to notification id, for reports.
func (w *world) record(id int64, format string, args ...any) {
	w.mu.Lock()
	w.history[id] = append(w.history[id], fmt.Sprintf(format, args...))
	w.mu.Unlock()
}

func (w *world) count(what string) {
	w.mu.Lock()
	w.stats[what]++
	w.mu.Unlock()
}

// summary is the run's counts, operations and clients', for the log.
func (w *world) summary() string {
	var events, conns, resets, ends int
	for _, c := range w.clients {
		events, conns, resets, ends = events+c.events, conns+c.conns, resets+c.resets, ends+c.serverEnds
	}
	w.mu.Lock()
	w.stats["events received"], w.stats["connections"], w.stats["resets"], w.stats["streams the server ended"] = events, conns, resets, ends
	keys := make([]string, 0, len(w.stats))
	for k := range w.stats {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, w.stats[k]))
	}
	w.mu.Unlock()
	return strings.Join(parts, ", ")
}

// wasReaddressed reports whether notification id was given a new audience
// (or is being given one).
func (w *world) wasReaddressed(id int64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.readdressed[id]
}

// lastPosition is the newest stream position, for the test's history; 0
// when the store cannot tell.
func (w *world) lastPosition(ctx context.Context) int64 {
	pos, _ := w.apps[0].Store.LastPosition(ctx)
	return pos
}
