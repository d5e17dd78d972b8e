package streamprop

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
)

// failure is one breach of the stream's contract that a client saw.
type failure struct {
	kind   string // what broke, the same words for every instance of it
	client string
	conn   string
	from   int64 // the connection's Last-Event-ID, as a position
	id     int64 // the notification, 0 when none
	detail string
}

func (f failure) String() string {
	return fmt.Sprintf("%s: %s, %s: %s", f.kind, f.client, f.conn, f.detail)
}

// fail records f, seen outside any one event (a stream that would not
// open, a reload that failed).
func (c *client) fail(f failure) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f.client = c.name
	c.fails = append(c.fails, f)
}

// wire is the part of the stream's notification JSON the view keeps.
type wire struct {
	ID       int64  `json:"id"`
	Title    string `json:"title"`
	Body     string `json:"body"`
	Level    string `json:"level"`
	Position int64  `json:"position"`
	LastID   *int64 `json:"last_id"` // reset's
}

// apply handles one event as the feed page does, checking the contract on
// the way, and reports whether it was `reset` (the stream is then left).
// Called by the connection's goroutine.
func (c *client) apply(k *connection, ev event) (reset bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ev.data == "" {
		// Not dispatched (the first frame's retry:), but an id counts.
		if ev.hasID {
			c.cursor = ev.id
		}
		return false
	}
	c.events++
	if ev.kind == "unread" {
		return false // the header's count: not the view's business
	}
	if ev.kind == "state" {
		c.applyState(k, ev)
		return false
	}
	e := &seen{c: c, k: k, ev: ev}
	if err := json.Unmarshal([]byte(ev.data), &e.p); err != nil {
		e.breach("data not JSON", "%v", err)
		return false
	}
	if k.forged && !k.began && ev.kind != "reset" {
		e.breach("forged cursor not reset", "the first event after a forged Last-Event-ID must be reset")
	}
	k.began = true
	if ev.kind == "reset" {
		c.resets++
		if e.p.LastID == nil || strconv.FormatInt(*e.p.LastID, 10) != ev.id {
			e.breach("reset malformed", `want id: N and data {"last_id":N}`)
		}
		return true // not its cursor: the reload that follows sets it
	}
	e.checkPosition()
	c.trace[e.p.ID] = append(c.trace[e.p.ID], e.String())
	switch ev.kind {
	case "notification":
		e.show()
	case "update":
		e.update()
	case "withdraw":
		e.withdraw()
	}
	if ev.hasID {
		c.cursor = ev.id
	}
	return false
}

// seen is one event a client's connection received, being applied under
// the client's lock.
type seen struct {
	c  *client
	k  *connection
	ev event
	p  wire
}

func (e *seen) String() string {
	what := fmt.Sprintf("%s %q at %d", e.ev.kind, e.p.Title, e.p.Position)
	if e.ev.kind == "withdraw" {
		what = e.ev.kind
	}
	return fmt.Sprintf("conn %d (%s, from %q) id:%s %s", e.k.n, e.k.on, e.k.from, e.ev.id, what)
}

// breach records a failure of kind for this event.
func (e *seen) breach(kind, format string, args ...any) {
	e.c.fails = append(e.c.fails, e.failure(kind, fmt.Sprintf(format, args...)))
}

func (e *seen) failure(kind, why string) failure {
	got := fmt.Sprintf("id: %s, event: %s, data: %.200s", e.ev.id, e.ev.kind, e.ev.data)
	if e.p.ID != 0 {
		got = fmt.Sprintf("id: %s, event: %s, notification %d %q at position %d", e.ev.id, e.ev.kind, e.p.ID, e.p.Title, e.p.Position)
	}
	return failure{kind: kind, client: e.c.name, conn: e.k.String(), from: e.k.position(), id: e.p.ID, detail: got + ": " + why}
}

// checkPosition holds the event's id to a position that only grows.
func (e *seen) checkPosition() {
	if !e.ev.hasID {
		e.breach("event without id", "every change carries its position")
		return
	}
	pos, err := strconv.ParseInt(e.ev.id, 10, 64)
	if err != nil {
		e.breach("id not a position", "%v", err)
		return
	}
	if after := max(e.k.last, e.k.position()); pos <= after {
		e.breach("id did not grow", "after %d (resumed from %q)", after, e.k.from)
	}
	if e.k.changes++; e.k.changes == 1 {
		e.k.first = pos
	}
	e.k.last = pos
}

// show adds a card: the first event of a notification, once.
func (e *seen) show() {
	c, id := e.c, e.p.ID
	// One given a new audience may come back to a client that lost it.
	regained := c.gone[id] && c.w.wasReaddressed(id)
	switch _, held := c.view[id]; {
	case e.k.notified[id] && !regained:
		e.breach("notification twice", "this connection already sent its notification")
	case held:
		e.breach("notification twice", "the client already holds it, from an earlier event or its list")
	case c.gone[id] && !regained:
		e.breach("notification after withdraw", "it was withdrawn")
	}
	delete(c.gone, id)
	e.k.notified[id] = true
	c.known[id] = true
	c.view[id] = e.card()
}

// update replaces a card the client shows; one it never had is a breach.
func (e *seen) update() {
	c, id := e.c, e.p.ID
	switch {
	case !c.known[id]:
		e.breach("update before notification", "the client never had it")
		c.known[id] = true // once: its later changes follow from this one
	case c.gone[id]:
		e.breach("update after withdraw", "it was withdrawn")
	}
	if _, held := c.view[id]; held {
		c.view[id] = e.card()
	}
}

// withdraw takes a card away.
func (e *seen) withdraw() {
	c, id := e.c, e.p.ID
	switch {
	case !c.known[id]:
		// Allowed when the cursor covers where it became visible: a
		// resume cannot tell whether the client had it (a list leaves out
		// what was withdrawn). verify looks that up.
		c.unknownWithdrawals = append(c.unknownWithdrawals, e.failure("withdraw before notification", "the client never had it"))
	case c.gone[id] && c.w.wasReaddressed(id):
		// Lost, then given to the user's audience for a while, then lost
		// again: a client cut off in that while is told again
		// (audience.Timeline.Told).
		c.w.count("withdrawals of one lost already (readdressed)")
	case c.gone[id]:
		e.breach("withdraw twice", "it was withdrawn already")
	}
	delete(c.view, id)
	c.gone[id] = true
}

func (e *seen) card() card {
	return card{Title: e.p.Title, Body: e.p.Body, Level: e.p.Level, Position: e.p.Position, Read: e.c.read[e.p.ID]}
}

// applyState applies a `state` event as the feed page does: the ids it
// names are read or unread from now on. It has no id: line, and a
// visitor is sent none.
func (c *client) applyState(k *connection, ev event) {
	e := &seen{c: c, k: k, ev: ev}
	var st struct {
		IDs  []int64 `json:"ids"`
		Read *bool   `json:"read"`
		All  bool    `json:"all"`
	}
	switch err := json.Unmarshal([]byte(ev.data), &st); {
	case err != nil:
		e.breach("data not JSON", "%v", err)
		return
	case ev.hasID:
		e.breach("state with an id", "state events leave Last-Event-ID alone")
	case c.user == nil:
		e.breach("state to a visitor", "a visitor has no read state")
	case st.All || st.Read == nil:
		e.breach("state unexpected", "the operations only mark single notifications read")
		return
	}
	for _, id := range st.IDs {
		c.read[id] = *st.Read
		if cd, ok := c.view[id]; ok {
			cd.Read = *st.Read
			c.view[id] = cd
		}
	}
}

var (
	secretPattern = regexp.MustCompile(`secret-for-(\d+)-\d+`)
	emailPattern  = regexp.MustCompile(`[a-z0-9.]+@example\.com`)
	// A post to a list: who may see it depends on membership over time,
	// so what each client saw is judged at the end (world.listLeaks).
	listPattern  = regexp.MustCompile(`secret-list-(\d+)`)
	groupPattern = regexp.MustCompile(`team-[ab]`)
)

// scanForLeaks looks through one raw line of a stream for what only
// another user may see: a secret naming another user, or another user's
// email (the JSON's recipient). A visitor may see neither.
func (c *client) scanForLeaks(k *connection, line string) {
	var leaks []string
	for _, m := range secretPattern.FindAllStringSubmatch(line, -1) {
		if c.user == nil || m[1] != strconv.FormatInt(c.user.id, 10) {
			leaks = append(leaks, m[0])
		}
	}
	for _, email := range emailPattern.FindAllString(line, -1) {
		if c.user == nil || email != c.user.email {
			leaks = append(leaks, email)
		}
	}
	lists, groups := listPattern.FindAllStringSubmatch(line, -1), groupPattern.FindAllString(line, -1)
	if len(leaks) == 0 && len(lists) == 0 && len(groups) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range lists {
		n, _ := strconv.Atoi(m[1])
		c.listsSeen[n] = true
	}
	for _, g := range groups {
		c.groupsSeen[g] = true
	}
	if len(leaks) > 0 {
		c.fails = append(c.fails, failure{kind: "leak", client: c.name, conn: k.String(),
			detail: fmt.Sprintf("%v in %.300s", leaks, line)})
	}
}

// difference is one way a view differs from the list API.
type difference struct {
	id   int64
	text string
}

// diffViews compares a client's view with the list API's answer for it.
func diffViews(view, list map[int64]card) []difference {
	var out []difference
	for id, want := range list {
		got, ok := view[id]
		switch {
		case !ok:
			out = append(out, difference{id, fmt.Sprintf("notification %d (%+v) is missing from the view", id, want)})
		case got != want:
			out = append(out, difference{id, fmt.Sprintf("notification %d is %+v in the view, %+v in the list", id, got, want)})
		}
	}
	for id, got := range view {
		if _, ok := list[id]; !ok {
			out = append(out, difference{id, fmt.Sprintf("notification %d (%+v) is in the view, not in the list", id, got)})
		}
	}
	return out
}
