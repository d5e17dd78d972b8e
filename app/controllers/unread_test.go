package controllers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"beacon/app/apptest"
)

func unreadPath(id int64) string { return "/notifications/" + itoa(id) + "/unread" }

// pageState is the feed's data-state: the user's state number its stream
// resumes after.
func pageState(t *testing.T, page string) int64 {
	t.Helper()
	m := regexp.MustCompile(`id="feed"[^>]* data-state="(\d+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no data-state on the feed:\n%.2000s", page)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// A read notification can be marked unread again, with a plain form or by
// the script, on either side of "mark all": the page, the count and the
// list follow, and each change moves the page's state number on. Someone
// else's or a missing one is 404; CSRF and sign-in as for /read.
func TestMarkingUnread(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app, _, token := apptest.WithAdmin(t, opts)
		app.CreateUser(t, "Ann", "ann@example.com", "password ann", false)
		app.CreateUser(t, "Bob", "bob@example.com", "password bob", false)
		ann := app.Client(t)
		ann.Login(t, "ann@example.com", "password ann")
		old := app.Notify(t, token, map[string]string{"title": "old"})
		bobs := app.Notify(t, token, map[string]string{"title": "for bob", "recipient": "bob@example.com"})
		if n := markJSON(t, ann, "/notifications/read_all", old); n != 0 {
			t.Fatalf("unread after mark all: %d", n)
		}
		newer := app.Notify(t, token, map[string]string{"title": "newer"})
		markJSON(t, ann, readPath(newer), newer)

		_, unread, page := feedState(t, ann)
		if unread != 0 || !strings.Contains(itemClass(t, page, old), "read") || !strings.Contains(page, `action="`+unreadPath(old)+`"`) {
			t.Fatalf("both read: unread %d, old's class %q, its form to mark it unread missing", unread, itemClass(t, page, old))
		}
		before := pageState(t, page)

		// A plain form, below the watermark; the script's, above it.
		resp, body := ann.PostForm(t, unreadPath(old), url.Values{})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("mark unread: %d %.200s", resp.StatusCode, body)
		}
		if n := markJSON(t, ann, unreadPath(newer), newer); n != 2 {
			t.Errorf("unread after marking both unread: %d, want 2", n)
		}
		_, unread, page = feedState(t, ann)
		for _, id := range []int64{old, newer} {
			if class := itemClass(t, page, id); !strings.Contains(class, "unread") {
				t.Errorf("notification %d after marking it unread: class %q", id, class)
			}
			if !strings.Contains(page, `action="`+readPath(id)+`"`) {
				t.Errorf("notification %d unread without its Mark as read form", id)
			}
		}
		if unread != 2 {
			t.Errorf("page's count: %d, want 2", unread)
		}
		if after := pageState(t, page); after != before+2 {
			t.Errorf("state number %d after two changes from %d", after, before)
		}
		_, list := ann.Get(t, "/api/notifications?after=0")
		if !strings.Contains(itemOf(list, old), `"read":false`) {
			t.Errorf("the list after marking unread: %s", itemOf(list, old))
		}

		for path, want := range map[string]int{
			unreadPath(bobs):            http.StatusNotFound,
			unreadPath(999999):          http.StatusNotFound,
			"/notifications/abc/unread": http.StatusNotFound,
			"/notifications/-1/unread":  http.StatusNotFound,
		} {
			if resp, body := ann.PostForm(t, path, url.Values{}); resp.StatusCode != want {
				t.Errorf("POST %s: %d, want %d: %.200s", path, resp.StatusCode, want, body)
			}
		}
		if resp, _ := ann.PostFormRaw(t, unreadPath(old), url.Values{}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("without _csrf: %d, want 403", resp.StatusCode)
		}
		if resp, _ := app.Client(t).PostForm(t, unreadPath(old), url.Values{}); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Errorf("a visitor: %d to %q, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
		}
		if _, unread, _ := feedState(t, ann); unread != 2 {
			t.Errorf("unread after refused markings: %d, want 2", unread)
		}
	})
}

// The feed page's stream, asked for the changes after the page's state
// number, is sent a change made between the page's load and the stream's
// start: a second tab's read reaches a tab still connecting.
func TestFeedStreamCatchesUpFromThePagesStateNumber(t *testing.T) {
	t.Parallel()
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	app.CreateUser(t, "Ann", "ann@example.com", "password ann", false)
	ann := app.Client(t)
	ann.Login(t, "ann@example.com", "password ann")
	id := app.Notify(t, token, map[string]string{"title": "one"})
	_, _, page := feedState(t, ann)
	seq := pageState(t, page)
	markJSON(t, ann, readPath(id), id) // in another tab, before this one's stream opens
	tab := ann.OpenStreamURL(t, "/notifications/stream?state_after="+strconv.FormatInt(seq, 10), itoa(id))
	if first := tab.NextEvent(t, wait); first.Retry <= 0 {
		t.Fatalf("first message %+v, want a retry", first)
	}
	if ev := tab.NextEvent(t, wait); ev.Event != "state" || ev.Data != `{"ids":[`+itoa(id)+`],"read":true}` {
		t.Fatalf("first event: %+v, want the read made after the page loaded", ev)
	}
	if n := unreadOf(t, tab.NextEvent(t, wait)); n != 0 {
		t.Errorf("unread: %d", n)
	}
}
