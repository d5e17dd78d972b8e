package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"beacon/app/apptest"
	"beacon/app/models"
	"beacon/app/store"
)

// change is an event's data as a client reads it: a notification's wire
// JSON, or a withdrawal's {"id"} (in lists {"id","position","withdrawn"}).
type change struct {
	ID        int64   `json:"id"`
	Title     string  `json:"title"`
	Position  int64   `json:"position"`
	UpdatedAt string  `json:"updated_at"`
	Key       *string `json:"key"`
	Withdrawn bool    `json:"withdrawn"`
	HTML      string  `json:"html"`
}

// seen is one event as a test compares it: "kind id title @position".
func seen(t *testing.T, ev apptest.Event) string {
	t.Helper()
	var c change
	if err := json.Unmarshal([]byte(ev.Data), &c); err != nil {
		t.Fatalf("%s event data %q: %v", ev.Event, ev.Data, err)
	}
	// An update stands at its position; a notification at the position
	// where it became visible, in its latest state (at that position or
	// later).
	if id, _ := strconv.ParseInt(ev.ID, 10, 64); ev.Event == "update" && id != c.Position || ev.Event == "notification" && (id > c.Position || id < c.ID) {
		t.Fatalf("%s: id: %s but data.position %d", ev.Event, ev.ID, c.Position)
	}
	if ev.Event == "withdraw" && ev.Data != fmt.Sprintf(`{"id":%d}`, c.ID) {
		t.Fatalf("withdraw data %q, want the id alone", ev.Data)
	}
	return fmt.Sprintf("%s %d %s @%s", ev.Event, c.ID, c.Title, ev.ID)
}

// nextChange returns the next event that is not an unread count.
func nextChange(t *testing.T, s *apptest.Stream) string {
	t.Helper()
	for {
		if ev := s.NextEvent(t, wait); ev.Event != "unread" {
			return seen(t, ev)
		}
	}
}

// want formats an expected event as seen does.
func want(kind string, id int64, title string, pos int64) string {
	return fmt.Sprintf("%s %d %s @%d", kind, id, title, pos)
}

// life changes notifications through the store, then wakes the hubs, as
// the controllers do after they commit.
type life struct {
	t   *testing.T
	app *apptest.App
}

func (l life) post(title string, to *models.User) models.Notification {
	l.t.Helper()
	n := models.Notification{Title: title, Level: "info"}
	if to != nil {
		n.RecipientID = &to.ID
	}
	l.app.SaveNotifications(l.t, func(ctx context.Context) error {
		_, err := l.app.Store.CreateOrReplaceNotification(ctx, &n)
		return err
	})
	return n
}

func (l life) edit(id int64, title string) models.Notification {
	l.t.Helper()
	var n models.Notification
	l.app.SaveNotifications(l.t, func(ctx context.Context) (err error) {
		n, err = l.app.Store.UpdateNotification(ctx, id, store.NotificationPatch{Title: &title})
		return err
	})
	return n
}

func (l life) withdraw(id int64) models.Notification {
	l.t.Helper()
	var n models.Notification
	l.app.SaveNotifications(l.t, func(ctx context.Context) (err error) {
		n, err = l.app.Store.WithdrawNotification(ctx, id)
		return err
	})
	return n
}

func (l life) replace(key, title string) models.Notification {
	l.t.Helper()
	n := models.Notification{Title: title, Level: "info", Key: &key}
	l.app.SaveNotifications(l.t, func(ctx context.Context) error {
		_, err := l.app.Store.CreateOrReplaceNotification(ctx, &n)
		return err
	})
	return n
}

// An edit, a replacement by key and a withdrawal each reach an open stream
// at once, as the right kind of event, with the change's position as id:.
func TestChangesReachAnOpenStreamLive(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app, _, token := apptest.WithAdmin(t, opts)
		l := life{t, app}
		s := open(t, app.Client(t), "")

		id := app.Notify(t, token, map[string]string{"title": "deploy started"})
		if got := nextChange(t, s); got != want("notification", id, "deploy started", id) {
			t.Fatalf("post: got %s", got)
		}
		e := l.edit(id, "deploy 50%")
		if e.Position <= id {
			t.Fatalf("an edit kept position %d", e.Position)
		}
		if got := nextChange(t, s); got != want("update", id, "deploy 50%", e.Position) {
			t.Fatalf("edit: got %s", got)
		}
		k := l.replace("job", "0%")
		if got := nextChange(t, s); got != want("notification", k.ID, "0%", k.ID) {
			t.Fatalf("keyed post: got %s", got)
		}
		r := l.replace("job", "100%")
		if r.ID != k.ID {
			t.Fatalf("replacement has id %d, want %d", r.ID, k.ID)
		}
		if got := nextChange(t, s); got != want("update", k.ID, "100%", r.Position) {
			t.Fatalf("replacement: got %s", got)
		}
		w := l.withdraw(id)
		if got := nextChange(t, s); got != want("withdraw", id, "", w.Position) {
			t.Fatalf("withdrawal: got %s", got)
		}
	})
}

// A resuming client gets each notification changed after its cursor once,
// in its latest state, in position order: what it never had as one
// `notification`, what it had as `update` or `withdraw`, and nothing for
// one posted and withdrawn while it was away. Then live ones, with nothing
// repeated.
func TestResumeSendsEachChangeOnceInItsLatestState(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app, _, token := apptest.WithAdmin(t, opts)
		l := life{t, app}
		a := l.post("a", nil)
		b := l.post("b", nil)
		cursor := b.Position // the client had a and b

		l.edit(a.ID, "a2")
		c := l.post("c", nil)
		l.edit(c.ID, "c2") // missed post and edit: one notification
		wb := l.withdraw(b.ID)
		d := l.post("d", nil)
		l.withdraw(d.ID) // never had it: nothing
		k := l.replace("job", "10%")
		l.replace("job", "100%")
		a3 := l.edit(a.ID, "a3")

		s := open(t, app.Client(t), strconv.FormatInt(cursor, 10))
		var got []string
		for range 4 {
			got = append(got, nextChange(t, s))
		}
		wantAll := []string{
			want("notification", c.ID, "c2", c.ID), // at its first position
			want("withdraw", b.ID, "", wb.Position),
			want("notification", k.ID, "100%", k.ID),
			want("update", a.ID, "a3", a3.Position),
		}
		if !slices.Equal(got, wantAll) {
			t.Fatalf("replay from %d:\n got %q\nwant %q", cursor, got, wantAll)
		}
		live := app.Notify(t, token, map[string]string{"title": "live"})
		if got := nextChange(t, s); got != want("notification", live, "live", live) {
			t.Fatalf("after the replay: got %s, want the live one", got)
		}

		// A client that had nothing gets what is live, each as new.
		s = open(t, app.Client(t), "0")
		got = got[:0]
		for range 4 {
			got = append(got, nextChange(t, s))
		}
		wantAll = []string{
			// Each at its first position, in its latest state.
			want("notification", a.ID, "a3", a.ID),
			want("notification", c.ID, "c2", c.ID),
			want("notification", k.ID, "100%", k.ID),
			want("notification", live, "live", live),
		}
		if !slices.Equal(got, wantAll) {
			t.Fatalf("replay from 0:\n got %q\nwant %q", got, wantAll)
		}
	})
}

// Nobody receives an update or withdraw of a notification they could not
// see, live or on resume.
func TestOthersChangesAreNeverSent(t *testing.T) {
	app, _, _ := apptest.WithAdmin(t, apptest.Options{})
	l := life{t, app}
	bob := app.CreateUser(t, "Bob", "bob@example.com", "password bob", false)
	app.CreateUser(t, "Carol", "carol@example.com", "password carol", false)
	bobs, carols := app.Client(t), app.Client(t)
	bobs.Login(t, "bob@example.com", "password bob")
	carols.Login(t, "carol@example.com", "password carol")
	before := l.post("public", nil).Position
	streams := map[string]*apptest.Stream{
		"bob": open(t, bobs, ""), "carol": open(t, carols, ""), "visitor": open(t, app.Client(t), ""),
	}
	// Each stream's replay is done (its unread count or nothing): wait for
	// all three to hold their subscriptions before the changes below.
	waitFor(t, func() bool { return app.Subscribers() == 3 })

	// One change at a time, each read before the next: a hub that looks
	// after several sends only the latest state.
	p := l.post("for bob", &bob)
	if got := nextChange(t, streams["bob"]); got != want("notification", p.ID, "for bob", p.Position) {
		t.Fatalf("bob live: got %s", got)
	}
	pe := l.edit(p.ID, "for bob, edited")
	if got := nextChange(t, streams["bob"]); got != want("update", p.ID, "for bob, edited", pe.Position) {
		t.Fatalf("bob live: got %s", got)
	}
	pw := l.withdraw(p.ID)
	if got := nextChange(t, streams["bob"]); got != want("withdraw", p.ID, "", pw.Position) {
		t.Fatalf("bob live: got %s", got)
	}
	pub := l.post("for everyone", nil)
	for who, s := range streams {
		if got := nextChange(t, s); got != want("notification", pub.ID, "for everyone", pub.Position) {
			t.Fatalf("%s live: got %s, want the public one next", who, got)
		}
	}

	// Resuming from before bob's notification: Carol and the visitor get
	// the public one alone; Bob nothing of one posted and withdrawn since.
	for who, c := range map[string]*apptest.Client{"bob": bobs, "carol": carols, "visitor": app.Client(t)} {
		s := open(t, c, strconv.FormatInt(before, 10))
		if got := nextChange(t, s); got != want("notification", pub.ID, "for everyone", pub.Position) {
			t.Fatalf("%s resuming: got %s", who, got)
		}
	}
	// Bob, who had it, hears that it is gone.
	s := open(t, bobs, strconv.FormatInt(pe.Position, 10))
	if got := nextChange(t, s); got != want("withdraw", p.ID, "", pw.Position) {
		t.Fatalf("bob resuming after the edit: got %s", got)
	}
}

// A replay is at most 1,000 events: a client 1,000 behind gets them all, one
// further behind gets reset to the newest position, then live events.
func TestReplayOfMoreThan1000EventsIsReset(t *testing.T) {
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	ctx := context.Background()
	// Stored while the app is down, as by another instance: the hub starts
	// after them, so no stream below has them queued live as well.
	app.Down(t)
	var first, last int64
	for i := range 1001 {
		n := models.Notification{Title: fmt.Sprint("n", i), Level: "info"}
		if _, err := app.Store.CreateOrReplaceNotification(ctx, &n); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = n.ID
		}
		last = n.ID
	}
	app.Up(t)

	s := open(t, app.Client(t), strconv.FormatInt(first, 10)) // 1,000 behind
	for pos := first + 1; pos <= last; pos++ {
		if ev := s.NextEvent(t, wait); ev.Event != "notification" || ev.ID != strconv.FormatInt(pos, 10) {
			t.Fatalf("replay: got %s %s, want notification %d", ev.Event, ev.ID, pos)
		}
	}
	s.Close()

	s = open(t, app.Client(t), strconv.FormatInt(first-1, 10)) // 1,001 behind
	ev := s.NextEvent(t, wait)
	if ev.Event != "reset" || ev.ID != strconv.FormatInt(last, 10) || ev.Data != fmt.Sprintf(`{"last_id":%d}`, last) {
		t.Fatalf("1,001 behind: got %+v, want reset to %d", ev, last)
	}
	live := app.Notify(t, token, map[string]string{"title": "live"})
	if got := nextChange(t, s); got != want("notification", live, "live", live) {
		t.Fatalf("after reset: got %s", got)
	}
}

// The list API and the long poll follow positions too: an edited
// notification comes again in its new state, a withdrawn one the client
// had as {"id","position","withdrawn":true}, one it never had not at all.
func TestListAndPollShowEditsAndWithdrawals(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app, _, _ := apptest.WithAdmin(t, opts)
		l := life{t, app}
		c := app.Client(t)
		a := l.post("a", nil)
		b := l.post("b", nil)
		cursor := b.Position
		e := l.edit(a.ID, "a2")
		w := l.withdraw(b.ID)
		gone := l.post("gone", nil)
		l.withdraw(gone.ID)

		type item = change
		type page struct {
			Notifications []item `json:"notifications"`
			LastID        int64  `json:"last_id"`
		}
		get := func(path string) page {
			t.Helper()
			resp, body := c.Get(t, path)
			var p page
			if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &p) != nil {
				t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
			}
			return p
		}
		for _, path := range []string{"/api/notifications?after=%d", "/api/notifications/poll?timeout=0&after=%d"} {
			p := get(fmt.Sprintf(path, cursor))
			if len(p.Notifications) != 2 || p.LastID != w.Position {
				t.Fatalf("%s: %+v, want a2 and b withdrawn, last_id %d", path, p, w.Position)
			}
			if got := p.Notifications[0]; got.ID != a.ID || got.Title != "a2" || got.Position != e.Position || got.Withdrawn || got.HTML == "" {
				t.Fatalf("%s: edited one %+v", path, got)
			}
			if got := p.Notifications[1]; got != (item{ID: b.ID, Position: w.Position, Withdrawn: true}) {
				t.Fatalf("%s: withdrawn one %+v", path, got)
			}
			// The next page is empty: nothing more this client could hold.
			if p := get(fmt.Sprintf(path, p.LastID)); len(p.Notifications) != 0 || p.LastID != w.Position {
				t.Fatalf("%s from last_id: %+v", path, p)
			}
		}

		// A waiting poll answers an edit.
		last, err := app.Store.LastPosition(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		answer := make(chan page, 1)
		go func() {
			resp, err := c.Client.Get(c.URL(fmt.Sprintf("/api/notifications/poll?timeout=10&after=%d", last)))
			if err != nil {
				answer <- page{}
				return
			}
			defer resp.Body.Close()
			var p page
			_ = json.NewDecoder(resp.Body).Decode(&p)
			answer <- p
		}()
		waitFor(t, func() bool { return app.Subscribers() == 1 })
		e3 := l.edit(a.ID, "a3")
		select {
		case p := <-answer:
			if len(p.Notifications) != 1 || p.Notifications[0].Title != "a3" || p.LastID != e3.Position {
				t.Fatalf("poll answered %+v, want a3 at %d", p, e3.Position)
			}
		case <-time.After(wait):
			t.Fatal("the poll did not answer the edit")
		}
	})
}
