package streamprop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"beacon/app/apptest"
)

// op is one planned operation; it runs on a goroutine of its own and
// returns an error for an answer the API must not give.
type op func(ctx context.Context) error

var levels = []string{"info", "success", "warning", "error"}

// plan draws the next operation. Notifications another operation of the
// round already touches are left alone, so that each answer is certain
// (an edit racing a withdrawal could be 404); posts by key may still meet
// in one round, which is the point of a key.
func (w *world) plan(touched map[int64]bool) op {
	r := w.rng.IntN(100)
	switch {
	case r < 20:
		return w.planPost(w.pickRecipient(), "", 0)
	case r < 32:
		return w.planPost(w.pickRecipient(), w.pickKey(), 0)
	case r < 40:
		key := ""
		if w.rng.IntN(3) == 0 {
			key = w.pickKey()
		}
		// Due within a second: the scheduler looks at least every second.
		return w.planPost(w.pickRecipient(), key, time.Duration(100+w.rng.IntN(700))*time.Millisecond)
	case r < 52:
		return w.planPostThen(w.pickRecipient(), true)
	case r < 57:
		return w.planPostThen(w.pickRecipient(), false)
	case r < 70:
		if n := w.pickLive(touched, nil); n != nil {
			return w.planEdit(n)
		}
	case r < 76:
		if n := w.pickLive(touched, nil); n != nil {
			return w.planReaddress(n)
		}
	case r < 86:
		if n := w.pickLive(touched, nil); n != nil {
			return w.planWithdraw(n)
		}
	case r < 91:
		return w.planPostToList(w.pickList())
	case r < 94:
		return w.planMembership(w.users[w.rng.IntN(len(w.users))])
	default:
		u := w.users[w.rng.IntN(len(w.users))]
		readable := func(n *note) bool { return !n.scheduled && !n.listed && (n.to == nil || n.to == u) }
		if n := w.pickLive(touched, readable); n != nil {
			return w.planRead(u, n)
		}
	}
	return w.planPost(w.pickRecipient(), "", 0)
}

// pickRecipient is nil (everyone) 40% of the time, else a user: each
// client sees a part of the changes, and a visitor under half, so that
// one far behind in positions may still be within a replay's 1,000 events.
func (w *world) pickRecipient() *user {
	if w.rng.IntN(10) < 4 {
		return nil
	}
	return w.users[w.rng.IntN(len(w.users))]
}

// pickKey draws from few keys, so that posts replace each other often.
func (w *world) pickKey() string { return "k" + strconv.Itoa(w.rng.IntN(3)) }

// pickLive is a live notification no other operation of the round touches
// (and that ok accepts), marked touched; nil when there is none.
func (w *world) pickLive(touched map[int64]bool, ok func(*note) bool) *note {
	w.mu.Lock()
	ids := make([]int64, 0, len(w.notes))
	for id, n := range w.notes {
		if !touched[id] && (ok == nil || ok(n)) {
			ids = append(ids, id)
		}
	}
	w.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids) // map order would make the seed draw differently
	id := ids[w.rng.IntN(len(ids))]
	touched[id] = true
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.notes[id]
}

// content is a new title, body and level for a notification to to. An
// addressed body carries a secret naming its recipient, which no other
// client's stream may ever carry.
func (w *world) content(to *user) map[string]string {
	w.seq++
	secret := fmt.Sprintf("public-%d", w.seq)
	if to != nil {
		secret = fmt.Sprintf("secret-for-%d-%d", to.id, w.seq)
	}
	return map[string]string{
		"title": fmt.Sprintf("n%d", w.seq),
		"body":  "body " + strconv.Itoa(w.seq) + ": " + secret,
		"level": levels[w.rng.IntN(len(levels))],
	}
}

// postFields is a POST /api/notifications body; wait > 0 schedules it.
func (w *world) postFields(to *user, key string) map[string]string {
	f := w.content(to)
	if to != nil {
		f["recipient"] = to.email
	}
	if key != "" {
		f["key"] = key
	}
	return f
}

func (w *world) planPost(to *user, key string, wait time.Duration) op {
	f, app := w.postFields(to, key), w.pickApp()
	return func(ctx context.Context) error {
		if wait > 0 {
			f["deliver_at"] = time.Now().Add(wait).UTC().Format(time.RFC3339Nano)
		}
		_, err := w.post(ctx, app, to, f)
		return err
	}
}

// planPostThen posts, then at once edits (or withdraws) what it posted:
// both commit before a hub is likely to look, which is where a first
// event must still be `notification` (or nothing at all).
func (w *world) planPostThen(to *user, edit bool) op {
	f, app, then := w.postFields(to, ""), w.pickApp(), w.pickApp()
	patch := w.patchFields(to)
	return func(ctx context.Context) error {
		id, err := w.post(ctx, app, to, f)
		if err != nil {
			return err
		}
		if edit {
			return w.edit(ctx, then, id, patch)
		}
		return w.withdraw(ctx, then, id)
	}
}

// patchFields is an edit of one to three of title, body and level.
func (w *world) patchFields(to *user) map[string]string {
	all := w.content(to)
	p := map[string]string{}
	for len(p) == 0 {
		for _, k := range []string{"title", "body", "level"} {
			if w.rng.IntN(2) == 0 {
				p[k] = all[k]
			}
		}
	}
	return p
}

func (w *world) planEdit(n *note) op {
	p, app := w.patchFields(n.to), w.pickApp()
	return func(ctx context.Context) error { return w.edit(ctx, app, n.id, p) }
}

// planReaddress gives n a new audience (everyone, one user or a list),
// and content with the secret of that audience: what the old one may
// carry stays with the old audience.
func (w *world) planReaddress(n *note) op {
	app := w.pickApp()
	var f map[string]any
	var to *user
	var a audienceSpec
	switch w.rng.IntN(3) {
	case 0:
		c := w.content(nil)
		f = map[string]any{"title": c["title"], "body": c["body"], "to": []string{}}
	case 1:
		to = w.users[w.rng.IntN(len(w.users))]
		c := w.content(to)
		f = map[string]any{"title": c["title"], "body": c["body"], "to": []string{to.email}}
	default:
		a = w.pickList()
		w.seq++
		w.mu.Lock()
		w.audiences[w.seq] = a
		w.mu.Unlock()
		f = map[string]any{"title": fmt.Sprintf("n%d", w.seq), "body": fmt.Sprintf("body %d: secret-list-%d", w.seq, w.seq), "to": a.entries()}
	}
	w.mu.Lock()
	w.readdressed[n.id] = true
	w.mu.Unlock()
	return func(ctx context.Context) error {
		status, out, err := w.call(ctx, app, http.MethodPatch, "/api/notifications/"+strconv.FormatInt(n.id, 10), f)
		if err != nil {
			return err
		}
		var ans answer
		switch {
		case status == http.StatusUnprocessableEntity && bytes.Contains(out, []byte("same key")):
			w.count("readdresses refused (key taken there)")
			return nil
		case status != http.StatusOK || json.Unmarshal(out, &ans) != nil:
			return fmt.Errorf("PATCH %d %v on %s: %d %s", n.id, f, w.instance(app), status, out)
		}
		w.count("readdresses")
		w.record(n.id, "readdressed to %v (%s) on %s at position %d", f["to"], f["title"], w.instance(app), ans.Position)
		w.mu.Lock()
		defer w.mu.Unlock()
		n.to, n.listed = to, len(a.users)+len(a.groups) > 0
		return nil
	}
}

func (w *world) planWithdraw(n *note) op {
	app := w.pickApp()
	return func(ctx context.Context) error { return w.withdraw(ctx, app, n.id) }
}

// planRead marks n read as u's browser does without JavaScript: a form
// with the session's CSRF token, answered 303.
func (w *world) planRead(u *user, n *note) op {
	app := w.pickApp()
	return func(ctx context.Context) error {
		form := url.Values{"_csrf": {u.csrf}}
		resp, err := u.web.Client.PostForm(app.URL+"/notifications/"+strconv.FormatInt(n.id, 10)+"/read", form)
		if err != nil {
			return fmt.Errorf("mark %d read on %s: %w", n.id, w.instance(app), err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			return fmt.Errorf("mark %d read as %s on %s: %d, want 303", n.id, u.email, w.instance(app), resp.StatusCode)
		}
		w.count("reads")
		w.record(n.id, "read by user %d on %s", u.id, w.instance(app))
		return nil
	}
}

// answer is the part of the API's notification JSON the test reads.
type answer struct {
	ID       int64 `json:"id"`
	Position int64 `json:"position"`
}

// post posts f and keeps track of the notification: 201 a new one, 200 one
// its key replaced. A scheduled post whose key a delivered notification
// holds is 422 and changes nothing. It returns the id, 0 for that 422.
func (w *world) post(ctx context.Context, app *apptest.App, to *user, f map[string]string) (int64, error) {
	status, out, err := w.call(ctx, app, http.MethodPost, "/api/notifications", f)
	if err != nil {
		return 0, err
	}
	key, scheduled := f["key"], f["deliver_at"] != ""
	var a answer
	switch {
	case status == http.StatusCreated || status == http.StatusOK && key != "":
		if err := json.Unmarshal(out, &a); err != nil || a.ID == 0 {
			return 0, fmt.Errorf("POST %v on %s: %d %s", f, w.instance(app), status, out)
		}
	case status == http.StatusUnprocessableEntity && key != "" && scheduled:
		w.count("schedules refused (key already delivered)")
		return 0, nil
	default:
		return 0, fmt.Errorf("POST %v on %s: %d %s", f, w.instance(app), status, out)
	}
	what := "posted"
	if status == http.StatusOK {
		what = "replaced by key " + key
	}
	if scheduled {
		what += " to wait until " + f["deliver_at"]
	}
	w.record(a.ID, "%s (%s) on %s at position %d", what, f["title"], w.instance(app), a.Position)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stats[map[bool]string{true: "keyed posts", false: "posts"}[key != ""]]++
	if status == http.StatusOK {
		w.stats["replacements"]++
	}
	if scheduled {
		w.stats["scheduled posts"]++
	}
	if w.withdrawn[a.ID] {
		return a.ID, nil // a racing withdrawal answered first
	}
	if n := w.notes[a.ID]; n != nil {
		// Replaced: it stays scheduled only if it waited and waits again.
		n.scheduled = n.scheduled && scheduled
		return a.ID, nil
	}
	w.notes[a.ID] = &note{id: a.ID, to: to, scheduled: scheduled}
	return a.ID, nil
}

// edit patches notification id with p: 200.
func (w *world) edit(ctx context.Context, app *apptest.App, id int64, p map[string]string) error {
	status, out, err := w.call(ctx, app, http.MethodPatch, "/api/notifications/"+strconv.FormatInt(id, 10), p)
	if err != nil {
		return err
	}
	var a answer
	if status != http.StatusOK || json.Unmarshal(out, &a) != nil {
		return fmt.Errorf("PATCH %d %v on %s: %d %s", id, p, w.instance(app), status, out)
	}
	w.count("edits")
	w.record(id, "edited %v on %s to position %d", p, w.instance(app), a.Position)
	return nil
}

// withdraw withdraws notification id: 204.
func (w *world) withdraw(ctx context.Context, app *apptest.App, id int64) error {
	status, out, err := w.call(ctx, app, http.MethodDelete, "/api/notifications/"+strconv.FormatInt(id, 10), nil)
	if err != nil {
		return err
	}
	if status != http.StatusNoContent {
		return fmt.Errorf("DELETE %d on %s: %d %s", id, w.instance(app), status, out)
	}
	w.count("withdrawals")
	w.record(id, "withdrawn on %s", w.instance(app))
	w.mu.Lock()
	delete(w.notes, id)
	w.withdrawn[id] = true
	w.mu.Unlock()
	return nil
}

// pickList is one to three entries of users and groups.
func (w *world) pickList() audienceSpec {
	var a audienceSpec
	for range 1 + w.rng.IntN(3) {
		switch w.rng.IntN(3) {
		case 0:
			a.groups = append(a.groups, topicGroup)
		case 1:
			a.groups = append(a.groups, closedGroup)
		default:
			a.users = append(a.users, w.users[w.rng.IntN(len(w.users))])
		}
	}
	return a
}

// entries are a's `to`.
func (a audienceSpec) entries() []string {
	var to []string
	for _, u := range a.users {
		to = append(to, u.email)
	}
	for _, g := range a.groups {
		to = append(to, "group:"+g)
	}
	return to
}

// planPostToList posts to a list: its body carries a secret numbered for
// its audience, which only a stream of a user in it (by name, or ever in
// one of its groups) may carry.
func (w *world) planPostToList(a audienceSpec) op {
	w.seq++
	seq := w.seq
	w.mu.Lock()
	w.audiences[seq] = a
	w.mu.Unlock()
	to := a.entries()
	f := map[string]any{
		"title": fmt.Sprintf("n%d", seq),
		"body":  fmt.Sprintf("body %d: secret-list-%d", seq, seq),
		"level": levels[w.rng.IntN(len(levels))],
		"to":    to,
	}
	app := w.pickApp()
	return func(ctx context.Context) error {
		status, out, err := w.call(ctx, app, http.MethodPost, "/api/notifications", f)
		if err != nil {
			return err
		}
		var ans answer
		if status != http.StatusCreated || json.Unmarshal(out, &ans) != nil || ans.ID == 0 {
			return fmt.Errorf("POST %v on %s: %d %s", f, w.instance(app), status, out)
		}
		w.record(ans.ID, "posted to %v (%s) on %s at position %d", to, f["title"], w.instance(app), ans.Position)
		w.mu.Lock()
		defer w.mu.Unlock()
		w.stats["posts to a list"]++
		if len(a.groups) == 0 && len(a.users) == 1 {
			w.notes[ans.ID] = &note{id: ans.ID, to: a.users[0]}
		} else {
			w.notes[ans.ID] = &note{id: ans.ID, listed: true}
		}
		return nil
	}
}

// planMembership changes u's groups: u follows or leaves the topic, or an
// admin adds u to or removes u from the closed group, each with the form
// a browser sends.
func (w *world) planMembership(u *user) op {
	app := w.pickApp()
	topic, join := w.rng.IntN(2) == 0, w.rng.IntN(2) == 0
	group := map[bool]string{true: topicGroup, false: closedGroup}[topic]
	if join {
		// Counted before it may take effect: a stream may carry the
		// group's posts from the moment it commits.
		w.mu.Lock()
		w.everIn[group][u.id] = true
		w.mu.Unlock()
	}
	return func(ctx context.Context) error {
		// Moved on before and after: a list read in pages meanwhile may mix
		// the two memberships (see client.reload).
		w.moveMembership(u)
		defer w.moveMembership(u)
		if topic {
			action := map[bool]string{true: "follow", false: "leave"}[join]
			form := url.Values{"_csrf": {u.csrf}}
			resp, err := u.web.Client.PostForm(app.URL+"/topics/"+topicGroup+"/"+action, form)
			if err != nil {
				return fmt.Errorf("%s %s as %s on %s: %w", action, topicGroup, u.email, w.instance(app), err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther {
				return fmt.Errorf("%s %s as %s on %s: %d, want 303", action, topicGroup, u.email, w.instance(app), resp.StatusCode)
			}
			w.count("topic " + action + "s")
			w.record(-u.id, "%s %s on %s, done by position %d", action, topicGroup, w.instance(app), w.lastPosition(ctx))
			return nil
		}
		action := map[bool]string{true: "add", false: "remove"}[join]
		form := url.Values{"_csrf": {w.adminCSRF}, "email": {u.email}}
		resp, err := w.admin.Client.PostForm(w.apps[0].URL+"/admin/groups/"+closedGroup+"/"+action, form)
		if err != nil {
			return fmt.Errorf("%s %s in %s: %w", action, u.email, closedGroup, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			return fmt.Errorf("%s %s in %s: %d, want 303", action, u.email, closedGroup, resp.StatusCode)
		}
		w.count(map[bool]string{true: "added to the closed group", false: "removed from the closed group"}[join])
		w.record(-u.id, "%s in %s, done by position %d", action, closedGroup, w.lastPosition(ctx))
		return nil
	}
}

// moveMembership counts a change of u's groups under way or done.
func (w *world) moveMembership(u *user) {
	w.mu.Lock()
	w.membership[u.id]++
	w.mu.Unlock()
}

// membershipOf is how far u's changes of groups have gone.
func (w *world) membershipOf(u *user) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.membership[u.id]
}
