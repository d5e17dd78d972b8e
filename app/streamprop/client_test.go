package streamprop

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"beacon/app/apptest"
)

// client is one browser tab on the feed: it follows the stream with
// Last-Event-ID across drops, as EventSource does, and keeps the feed's
// view. Its connection's goroutine is the only writer of its state while
// connected; the test goroutine reads it under mu, or after disconnect.
type client struct {
	name string
	user *user // nil: a visitor
	web  *apptest.Client
	w    *world
	away int // rounds left before it resumes; test goroutine only
	// owesReload is set by a `reset` until the reload after it is done:
	// a client dropped in between (the tab closed mid-reload) reloads
	// before it follows the stream again, as the page's next load would.
	// Its connection's goroutine alone uses it.
	owesReload bool

	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	cursor string         // the id of the last event it had: its Last-Event-ID
	view   map[int64]card // the cards on its page, by notification id
	known  map[int64]bool // every id it ever held
	gone   map[int64]bool // ids it was told were withdrawn (or lost), and not given back
	// read is the read state its `state` events (and reloads) left, by
	// id: every connection asks for the user's changes from the first
	// (?state_after=0), so it ends as the server's.
	read  map[int64]bool
	trace map[int64][]string
	fails []failure
	// unknownWithdrawals are `withdraw`s of ids the client never had:
	// failures unless the connection's cursor covers their first position.
	unknownWithdrawals []failure
	// listsSeen and groupsSeen are the posts to a list (by their secret's
	// number) and the group names its streams carried: world.listLeaks
	// judges them once the run is over.
	listsSeen  map[int]bool
	groupsSeen map[string]bool
	connLog    []string // how each connection and reload went, for reports
	// counts for the log
	events, conns, resets, serverEnds int
}

// card is what the page shows of a notification, in the state it has.
type card struct {
	Title, Body, Level string
	Position           int64
	Read               bool // for a signed-in user: as their state events left it
}

func newClient(w *world, name string, u *user, web *apptest.Client) *client {
	return &client{name: name, user: u, web: web, w: w, cursor: "0",
		view: map[int64]card{}, known: map[int64]bool{}, gone: map[int64]bool{}, trace: map[int64][]string{}, read: map[int64]bool{},
		listsSeen: map[int]bool{}, groupsSeen: map[string]bool{}}
}

// failures is what the client saw that breaks the contract.
func (c *client) failures() []failure {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fails
}

func (c *client) lastID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cursor
}

// position is the client's cursor as a number: it is only ever a position
// the server gave, by an event's id or the list's end (never a forged one).
func (c *client) position() int64 {
	n, _ := strconv.ParseInt(c.lastID(), 10, 64)
	return n
}

func (c *client) connections() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connLog
}

func (c *client) traceOf(id int64) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.trace[id]
}

// connect follows the stream on app from Last-Event-ID lastID until
// disconnect; forged says lastID is not one the server sent.
func (c *client) connect(app *apptest.App, lastID string, forged bool) {
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel, c.done = cancel, make(chan struct{})
	go c.follow(ctx, app, lastID, forged)
}

// disconnect drops the connection, as closing the tab or losing the
// network does, and waits until the client has applied what it read.
func (c *client) disconnect() {
	if c.cancel == nil {
		return
	}
	c.cancel()
	<-c.done
	c.cancel = nil
}

// follow reads streams until ctx ends. After `reset` it reloads the list
// and resumes from there, as the feed page's reload does (see reload); after
// the server ends a stream it resumes from its last id, as EventSource
// does. Reconnects alternate between the instances.
func (c *client) follow(ctx context.Context, app *apptest.App, lastID string, forged bool) {
	defer close(c.done)
	for {
		if c.owesReload {
			err := retry(ctx, func() error { return c.reload(ctx, app) })
			if err != nil {
				if ctx.Err() == nil {
					c.fail(failure{kind: "reload after reset", detail: err.Error()})
				}
				return
			}
			c.owesReload = false
			lastID, forged = c.lastID(), false
		}
		var reset bool
		err := retry(ctx, func() (err error) {
			reset, err = c.stream(ctx, app, lastID, forged)
			app = c.w.apps[c.conns%len(c.w.apps)]
			return err
		})
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			c.fail(failure{kind: "stream error", detail: err.Error()})
			return
		case reset:
			c.owesReload = true
			err := retry(ctx, func() error { return c.reload(ctx, app) })
			if err != nil {
				if ctx.Err() == nil {
					c.fail(failure{kind: "reload after reset", detail: err.Error()})
				}
				return
			}
			c.owesReload = false
		default:
			c.mu.Lock()
			c.serverEnds++
			c.mu.Unlock()
		}
		lastID, forged = c.lastID(), false
	}
}

// A request that gets no answer (its instance is restarting) is tried
// again every refusedWait, as EventSource does, maxRefused times at most.
const (
	refusedWait = 20 * time.Millisecond
	maxRefused  = 500
)

// unreachable is a request that got no answer.
type unreachable struct{ err error }

func (u unreachable) Error() string { return "no answer: " + u.err.Error() }

func (u unreachable) Unwrap() error { return u.err }

// retry runs try until it gets an answer (see unreachable).
func retry(ctx context.Context, try func() error) error {
	for refused := 0; ; refused++ {
		err := try()
		var down unreachable
		if !errors.As(err, &down) || refused == maxRefused {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(refusedWait):
		}
	}
}

// stream reads one connection until it ends, applying each event; reset
// reports that it ended on `reset`.
func (c *client) stream(ctx context.Context, app *apptest.App, lastID string, forged bool) (reset bool, err error) {
	dropped := ctx.Err
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, app.URL+"/notifications/stream?state_after=0", nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	c.mu.Lock()
	c.conns++
	conn := &connection{n: c.conns, from: lastID, forged: forged, on: c.w.instance(app), notified: map[int64]bool{}}
	c.mu.Unlock()
	defer func() { c.ended(conn, dropped() != nil, reset, err) }()
	resp, err := c.web.Do(req)
	if err != nil {
		return false, unreachable{err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return false, fmt.Errorf("stream on %s from %q: %d %s %s", conn.on, lastID, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	rd := bufio.NewReaderSize(resp.Body, 64<<10)
	var ev event
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			// The server ended it (a closed connection, or one reset by a
			// restart), or we did.
			return false, nil
		}
		// The raw bytes, before any parsing: a secret is one line's text.
		c.scanForLeaks(conn, line)
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if line != "" {
			ev.add(line)
			continue
		}
		if ev.dirty && c.apply(conn, ev) {
			return true, nil
		}
		ev = event{}
	}
}

// ended notes how connection k ended, for reports.
func (c *client) ended(k *connection, dropped, reset bool, err error) {
	how := "ended by the server"
	switch {
	case dropped:
		how = "dropped by the client"
	case reset:
		how = "reset"
	case err != nil:
		how = "failed"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.connLog = append(c.connLog, fmt.Sprintf("%s, %d changes (ids %d to %d), %s", k, k.changes, k.first, k.last, how))
}

// event is one Server-Sent Events message, parsed as EventSource does.
type event struct {
	id, kind, data string
	hasID, dirty   bool
}

func (e *event) add(line string) {
	if strings.HasPrefix(line, ":") {
		return // a comment: ": ping"
	}
	field, value, _ := strings.Cut(line, ":")
	value = strings.TrimPrefix(value, " ")
	e.dirty = true
	switch field {
	case "id":
		e.id, e.hasID = value, true
	case "event":
		e.kind = value
	case "data":
		if e.data != "" {
			e.data += "\n"
		}
		e.data += value
	}
}

// connection is what the client knows of one stream it opened.
type connection struct {
	n        int    // the client's connection number, from 1
	from     string // the Last-Event-ID it sent
	forged   bool
	on       string // the instance
	first    int64  // the first change's id
	last     int64  // the newest id it sent
	changes  int    // notification, update and withdraw events
	began    bool   // it sent an event
	notified map[int64]bool
}

// position is the Last-Event-ID it sent as a position; 0 for a forged one.
func (k *connection) position() int64 {
	n, _ := strconv.ParseInt(k.from, 10, 64)
	return max(n, 0)
}

func (k *connection) String() string {
	s := fmt.Sprintf("connection %d on %s from %q", k.n, k.on, k.from)
	if k.forged {
		s += " (forged)"
	}
	return s
}

// reload rebuilds the view from the list API, as the feed page's load
// does, and moves the cursor to where the list ends. The feed page would
// resume from the newest position it may see, read before its list, and
// take a `notification` for a card it shows as a replay; resuming from the
// list's own end instead makes every such `notification` a breach. The
// cursor never goes back: a list that ends on a live notification ends
// before withdrawals the client already had.
func (c *client) reload(ctx context.Context, app *apptest.App) error {
	// The page loads in one query; the list comes in pages, which a change
	// of the user's groups meanwhile splits between two memberships (and
	// the page's stream would then reset it): such a list is read again.
	var items map[int64]card
	var last int64
	for {
		before := 0
		if c.user != nil {
			before = c.w.membershipOf(c.user)
		}
		var err error
		if items, last, err = listAll(ctx, c.web, app.URL); err != nil {
			return err
		}
		if c.user == nil || c.w.membershipOf(c.user) == before {
			break
		}
		c.w.count("lists read again: the groups changed meanwhile")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.view = items
	for id, it := range items {
		c.read[id] = it.Read
		c.known[id] = true
		delete(c.gone, id) // lost, then given back (readdressed, or the groups changed)
		c.trace[id] = append(c.trace[id], fmt.Sprintf("list from %s through %d: %q at %d", c.w.instance(app), last, it.Title, it.Position))
	}
	prev, _ := strconv.ParseInt(c.cursor, 10, 64)
	c.cursor = strconv.FormatInt(max(last, prev), 10)
	c.connLog = append(c.connLog, fmt.Sprintf("list from %s through %d, %d items, cursor %s", c.w.instance(app), last, len(items), c.cursor))
	return nil
}
