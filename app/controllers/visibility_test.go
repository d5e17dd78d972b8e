package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"beacon/app/apptest"
	"beacon/app/pgtest"
)

// Who sees what (INTERFACE.md): a notification addressed to a user reaches
// that user alone, and a broadcast everyone, visitors included, on every
// route: the feed page, the stream live, its replay (from the resume window
// and from the database) and reset, the list API, the long poll (at once
// and waiting), the unread count (page, stream, mark-read answers), marking
// read, and the admin list's read counts. Each is asked for three viewers:
// a visitor, the recipient (Bob) and another user (Cat). The hub delivers
// to taken-over connections over plain HTTP, and through subscriptions to
// streams that stay in their handler (HTTPS): both are run.
func TestEveryRouteShowsANotificationToItsAudienceAlone(t *testing.T) {
	modes := []struct {
		name string
		opts apptest.Options
	}{
		{"taken-over streams, replay from memory", apptest.Options{}},
		{"streams in their handler, replay from the database", apptest.Options{TLS: true, ResumeWindow: -1}},
	}
	for _, db := range []string{"sqlite", "postgres"} {
		for _, m := range modes {
			t.Run(db+"/"+m.name, func(t *testing.T) {
				opts := m.opts
				if db == "postgres" {
					if opts.DatabaseURL = pgtest.URL(t); opts.DatabaseURL == "" {
						t.Skip("no PostgreSQL to test on (BEACON_TEST_POSTGRES=off, or none answers): the rule was checked on SQLite only")
					}
				}
				s := newScene(t, opts)
				s.checkNow(t)
				s.checkLive(t)
				s.checkReplays(t)
				s.checkLists(t)
				s.checkFeed(t)
				s.checkReads(t)
				s.checkWaitingPolls(t)
			})
		}
	}
}

// viewer is one of the three who look.
type viewer struct {
	name   string
	client *apptest.Client
	live   *apptest.Stream // open since before the first post
	bob    bool            // the recipient
}

// scene is the app, its viewers, and the notifications posted: p1 and p2
// for Bob, a for all; then p1 edited, p2 withdrawn (every kind of event),
// and, once checkNow has looked, m for all.
type scene struct {
	app      *apptest.App
	token    string
	viewers  []*viewer
	names    map[int64]string // id → title
	p1, p2   int64
	a, m     int64
	newest   int64 // the last position before m
	bob, cat *viewer
}

func newScene(t *testing.T, opts apptest.Options) *scene {
	app, _, token := apptest.WithAdmin(t, opts)
	s := &scene{app: app, token: token, names: map[int64]string{}}
	s.viewers = []*viewer{{name: "visitor"}, {name: "bob", bob: true}, {name: "cat"}}
	s.bob, s.cat = s.viewers[1], s.viewers[2]
	for _, v := range s.viewers {
		v.client = app.Client(t)
		if v.name != "visitor" {
			email := v.name + "@example.com"
			app.CreateUser(t, v.name, email, "password "+v.name, false)
			v.client.Login(t, email, "password "+v.name)
		}
		v.live = open(t, v.client, "")
	}
	// Each change reaches Bob's own stream before the next is made, so the
	// hub sees them one by one: changes it saw together would be sent as
	// one (p2 posted and withdrawn: nothing).
	paced := open(t, s.bob.client, "")
	s.p1 = s.notify(t, "p1 for bob", "bob@example.com")
	s.settle(t, paced)
	s.a = s.notify(t, "a for all", "")
	s.settle(t, paced)
	s.p2 = s.notify(t, "p2 for bob", "bob@example.com")
	s.settle(t, paced)
	if resp, body := apiCall(t, app, http.MethodPatch, "/api/notifications/"+itoa(s.p1), token, "application/json", `{"title":"p1 for bob, edited"}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH: %d %s", resp.StatusCode, body)
	}
	s.settle(t, paced)
	if resp, body := apiCall(t, app, http.MethodDelete, "/api/notifications/"+itoa(s.p2), token, "", ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", resp.StatusCode, body)
	}
	s.settle(t, paced)
	paced.Close()
	var err error
	if s.newest, err = app.Store.LastPosition(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *scene) notify(t *testing.T, title, recipient string) int64 {
	n := map[string]string{"title": title}
	if recipient != "" {
		n["recipient"] = recipient
	}
	id := s.app.Notify(t, s.token, n)
	s.names[id] = title
	return id
}

// checkNow: where "now" is for each viewer, the reset's last_id and the
// page's stream cursor, is the newest position that viewer may see.
func (s *scene) checkNow(t *testing.T) {
	for _, v := range s.viewers {
		want := pick(v, s.newest, s.a)
		ev := open(t, v.client, "99999").NextEvent(t, wait)
		if ev.Event != "reset" || ev.Data != fmt.Sprintf(`{"last_id":%d}`, want) {
			t.Errorf("%s's reset: %+v, want last_id %d", v.name, ev, want)
		}
		if _, page := v.client.Get(t, "/"); !strings.Contains(page, fmt.Sprintf(`data-position="%d"`, want)) {
			t.Errorf("%s's feed page does not start its stream at %d", v.name, want)
		}
	}
	s.m = s.notify(t, "m for all", "")
}

// checkLive: the streams open since before the first post.
func (s *scene) checkLive(t *testing.T) {
	for _, v := range s.viewers {
		events, _ := s.until(t, v.live, s.m)
		want := pick(v, []string{"notification p1", "notification a", "notification p2", "update p1", "withdraw p2", "notification m"},
			[]string{"notification a", "notification m"})
		if fmt.Sprint(events) != fmt.Sprint(want) {
			t.Errorf("%s's live stream: %v, want %v", v.name, events, want)
		}
	}
}

// checkReplays: from the start and from within, then the unread count
// that follows a replay.
func (s *scene) checkReplays(t *testing.T) {
	for _, v := range s.viewers {
		for _, tc := range []struct {
			after       int64
			bob, others []string
		}{
			// p1 goes at its first position, edited: before a.
			{0, []string{"notification p1", "notification a", "notification m"}, []string{"notification a", "notification m"}},
			{s.a, []string{"update p1", "notification m"}, []string{"notification m"}},
			{s.p2, []string{"update p1", "withdraw p2", "notification m"}, []string{"notification m"}},
		} {
			st := open(t, v.client, itoa(tc.after))
			events, _ := s.until(t, st, s.m)
			if want := pick(v, tc.bob, tc.others); fmt.Sprint(events) != fmt.Sprint(want) {
				t.Errorf("%s's replay after %d: %v, want %v", v.name, tc.after, events, want)
			}
			if v.name == "visitor" {
				continue // no read state, no count
			}
			if more, unread := s.until(t, st, 0); len(more) > 0 || fmt.Sprint(unread) != fmt.Sprint(unreadFor(v, 3, 2)) {
				t.Errorf("%s's unread after a replay: %v, then %v, want %v", v.name, more, unread, unreadFor(v, 3, 2))
			}
		}
	}
}

// checkLists: the list API and the long poll, answering at once.
func (s *scene) checkLists(t *testing.T) {
	for _, v := range s.viewers {
		for _, path := range []string{"/api/notifications?after=", "/api/notifications/poll?timeout=0&after="} {
			for after, want := range map[int64][]int64{
				0:    pick(v, []int64{s.a, s.p1, s.m}, []int64{s.a, s.m}),
				s.p2: pick(v, []int64{s.p1, s.p2, s.m}, []int64{s.m}),
			} {
				if _, l := getList(t, v.client, path+itoa(after)); fmt.Sprint(ids(l)) != fmt.Sprint(want) {
					t.Errorf("%s's %s%d: %v, want %v", v.name, path, after, ids(l), want)
				}
			}
		}
	}
}

// checkFeed: the feed page and its unread count.
func (s *scene) checkFeed(t *testing.T) {
	for _, v := range s.viewers {
		_, page := v.client.Get(t, "/")
		want := pick(v, []string{"m for all", "a for all", "p1 for bob, edited"}, []string{"m for all", "a for all"})
		if shown := shownTitles(page); fmt.Sprint(shown) != fmt.Sprint(want) {
			t.Errorf("%s's feed shows %v, want %v", v.name, shown, want)
		}
		if got, want := pageUnread(page), unreadFor(v, 3, 2); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s's page counts %v unread, want %v", v.name, got, want)
		}
	}
}

// checkReads: p1 is Bob's to mark, and his open stream's count follows;
// to Cat it does not exist. Once Cat marked all, her watermark covers p1's
// position, and the read counts must still leave her out of p1's.
func (s *scene) checkReads(t *testing.T) {
	if n := markJSON(t, s.bob.client, readPath(s.p1), s.m); n != 2 {
		t.Errorf("bob's unread after marking p1: %d, want 2", n)
	}
	// A count sent before the read (a wake-up of Bob's streams for
	// something else) may still be on its way: the read's comes after it.
	var counts []int
	for len(counts) < 3 && (len(counts) == 0 || counts[len(counts)-1] != 2) {
		_, unread := s.until(t, s.bob.live, 0)
		counts = append(counts, unread...)
	}
	if counts[len(counts)-1] != 2 {
		t.Errorf("bob's stream after marking p1: unread %v, want it to reach 2", counts)
	}
	if resp, _ := s.cat.client.PostForm(t, readPath(s.p1), nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("cat marks bob's p1 read: %d, want 404", resp.StatusCode)
	}
	if n := markJSON(t, s.cat.client, "/notifications/read_all", s.m); n != 0 {
		t.Errorf("cat's unread after marking all: %d, want 0", n)
	}
	admin := s.app.Client(t)
	admin.Login(t, apptest.AdminEmail, apptest.AdminPassword)
	_, list := admin.Get(t, "/admin/notifications")
	for _, id := range []int64{s.p1, s.a, s.m} {
		if got := readBy(list, id); got != "1" {
			t.Errorf("admin list: %s read by %s, want 1", s.names[id], got)
		}
	}
}

// checkWaitingPolls: long polls waiting past m; a post for Bob answers his
// alone, a broadcast the others'.
func (s *scene) checkWaitingPolls(t *testing.T) {
	base := s.app.Subscribers()
	answers := map[*viewer]chan string{}
	for _, v := range s.viewers {
		ch := make(chan string, 1)
		answers[v] = ch
		go func() { ch <- poll(v.client, s.m) }()
	}
	waitFor(t, func() bool { return s.app.Subscribers() == base+len(s.viewers) })
	p3 := s.notify(t, "p3 for bob", "bob@example.com")
	b := s.notify(t, "b for all", "")
	for _, v := range s.viewers {
		// Bob's answers at p3, and may have b by then.
		got, want := <-answers[v], pick(v, fmt.Sprint([]int64{p3}), fmt.Sprint([]int64{b}))
		if got != want && (!v.bob || got != fmt.Sprint([]int64{p3, b})) {
			t.Errorf("%s's waiting poll: %s, want %s", v.name, got, want)
		}
	}
}

// poll is a long poll's ids after position after, or what went wrong: it
// runs on its own goroutine, where the test may not stop.
func poll(c *apptest.Client, after int64) string {
	resp, err := c.Client.Get(c.URL("/api/notifications/poll?timeout=10&after=" + itoa(after)))
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	var l list
	if err == nil {
		err = json.Unmarshal(body, &l)
	}
	if err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("%d %v %s", resp.StatusCode, err, body)
	}
	return fmt.Sprint(ids(l))
}

// pick is the recipient's value for v if v is Bob, else everyone else's.
func pick[T any](v *viewer, bob, others T) T {
	if v.bob {
		return bob
	}
	return others
}

// unreadFor is the unread counts v's stream or page carries: none for a
// visitor.
func unreadFor(v *viewer, bob, cat int) []int {
	if v.name == "visitor" {
		return nil
	}
	return []int{pick(v, bob, cat)}
}

// until reads st up to the notification event of id last (0: up to the
// first unread count) and returns each event as "kind name" ("update p1"),
// and the unread counts it carried.
// settle reads st until it has the newest change.
func (s *scene) settle(t *testing.T, st *apptest.Stream) {
	t.Helper()
	newest, err := s.app.Store.LastPosition(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for {
		ev := st.NextEvent(t, wait)
		if pos, err := strconv.ParseInt(ev.ID, 10, 64); err == nil && pos >= newest {
			return
		}
	}
}

func (s *scene) until(t *testing.T, st *apptest.Stream, last int64) (events []string, unread []int) {
	t.Helper()
	for {
		ev := st.NextEvent(t, wait)
		var data struct{ ID, Unread int64 }
		if err := json.Unmarshal([]byte(ev.Data), &data); err != nil {
			t.Fatalf("event %+v: %v", ev, err)
		}
		switch ev.Event {
		case "unread":
			unread = append(unread, int(data.Unread))
			if last == 0 {
				return events, unread
			}
		case "notification", "update", "withdraw":
			name := "#" + strconv.FormatInt(data.ID, 10)
			if title, ok := s.names[data.ID]; ok {
				name = strings.Fields(title)[0]
			}
			events = append(events, ev.Event+" "+name)
			if ev.Event == "notification" && data.ID == last {
				return events, unread
			}
		case "state":
			// Only what this viewer may see: a user's own changes, of
			// notifications they could mark.
			var st struct{ IDs []int64 }
			if err := json.Unmarshal([]byte(ev.Data), &st); err != nil {
				t.Fatalf("event %+v: %v", ev, err)
			}
			for _, id := range st.IDs {
				if _, ok := s.names[id]; !ok {
					t.Errorf("state event names #%d, which is no notification of the scene", id)
				}
			}
		default:
			t.Fatalf("unexpected event %+v", ev)
		}
	}
}

var (
	feedTitle = regexp.MustCompile(`<h3 class="title">([^<]*)</h3>`)
	pageCount = regexp.MustCompile(`id="unread-count" data-unread="(\d+)"`)
)

// shownTitles are the titles of the notifications on a feed page, in order.
func shownTitles(page string) []string {
	var out []string
	for _, m := range feedTitle.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

// pageUnread is the header's unread count, if the page has one.
func pageUnread(page string) []int {
	m := pageCount.FindStringSubmatch(page)
	if m == nil {
		return nil
	}
	n, _ := strconv.Atoi(m[1])
	return []int{n}
}

// readBy is notification id's "Read by" cell on the admin list.
func readBy(list string, id int64) string {
	row := regexp.MustCompile(`(?s)id="admin-notification-` + itoa(id) + `".*?<td class="read-by">(\d+)</td>`).FindStringSubmatch(list)
	if row == nil {
		return "none"
	}
	return row[1]
}
