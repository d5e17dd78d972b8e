package controllers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"beacon/app/apptest"
)

var titleRE = regexp.MustCompile(`<title>([^<]*)</title>`)

// feedState fetches the feed and returns its tab title and its header's
// unread count.
func feedState(t *testing.T, c *apptest.Client) (title string, unread int, body string) {
	t.Helper()
	resp, body := c.Get(t, "/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /: %d", resp.StatusCode)
	}
	m := titleRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no title in\n%s", body)
	}
	cm := regexp.MustCompile(`id="unread-count" data-unread="(\d+)"`).FindStringSubmatch(body)
	if cm == nil {
		t.Fatalf("no unread count in\n%s", body)
	}
	unread, _ = strconv.Atoi(cm[1])
	return m[1], unread, body
}

// itemClass returns the class attribute of notification id on the page.
func itemClass(t *testing.T, body string, id int64) string {
	t.Helper()
	m := regexp.MustCompile(`<li class="([^"]*)" id="notification-` + strconv.FormatInt(id, 10) + `"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("notification %d not on the page", id)
	}
	return m[1]
}

// markJSON marks as the feed's script does and returns the new count.
func markJSON(t *testing.T, c *apptest.Client, path string, through int64) int {
	t.Helper()
	form := url.Values{"_csrf": {c.CSRF(t)}, "through": {strconv.FormatInt(through, 10)}}
	req, err := http.NewRequest(http.MethodPost, c.URL(path), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-CSRF-Token", form.Get("_csrf"))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Unread *int }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.Unread == nil {
		t.Fatalf("POST %s (JSON): %d %v %+v", path, resp.StatusCode, err, out)
	}
	return *out.Unread
}

func readPath(id int64) string { return fmt.Sprintf("/notifications/%d/read", id) }

func TestFeedReadStateAndMarking(t *testing.T) {
	t.Parallel()
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	app.CreateUser(t, "Bea", "bea@example.com", "long enough", false)
	app.CreateUser(t, "Cy", "cy@example.com", "long enough", false)
	b1 := app.Notify(t, token, map[string]string{"title": "for all 1"})
	toBea := app.Notify(t, token, map[string]string{"title": "for Bea", "recipient": "bea@example.com"})
	app.Notify(t, token, map[string]string{"title": "for Cy", "recipient": "cy@example.com"})
	b2 := app.Notify(t, token, map[string]string{"title": "for all 2"})

	bea := app.Client(t)
	bea.Login(t, "bea@example.com", "long enough")
	title, unread, body := feedState(t, bea)
	if title != "(3) Notifications · Beacon" || unread != 3 {
		t.Fatalf("title %q, unread %d; want (3)", title, unread)
	}
	for _, id := range []int64{b1, toBea, b2} {
		if cls := itemClass(t, body, id); !strings.Contains(cls, "unread") {
			t.Fatalf("notification %d class %q, want unread", id, cls)
		}
		if !strings.Contains(body, `action="`+readPath(id)+`"`) {
			t.Fatalf("no mark-read form for %d", id)
		}
	}
	if !strings.Contains(body, `action="/notifications/read_all"`) {
		t.Fatal("no mark-all form")
	}

	// Without JavaScript: a plain form, answered with a redirect.
	resp, _ := bea.PostForm(t, readPath(b1), url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("mark read: %d to %q, want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
	}
	title, unread, body = feedState(t, bea)
	if title != "(2) Notifications · Beacon" || unread != 2 || !strings.Contains(itemClass(t, body, b1), "read") ||
		strings.Contains(itemClass(t, body, b1), "unread") || strings.Contains(body, `action="`+readPath(b1)+`"`) {
		t.Fatalf("after marking %d: title %q, unread %d, class %q", b1, title, unread, itemClass(t, body, b1))
	}

	// With JavaScript: the answer is the new count.
	if n := markJSON(t, bea, readPath(toBea), b2); n != 1 {
		t.Fatalf("unread after marking by fetch: %d, want 1", n)
	}

	// Cy's count is Cy's own.
	cy := app.Client(t)
	cy.Login(t, "cy@example.com", "long enough")
	if _, n, _ := feedState(t, cy); n != 3 {
		t.Fatalf("Cy's unread %d, want 3", n)
	}

	// Mark all, up to the newest id Bea's page showed: one posted after
	// that stays unread.
	b3 := app.Notify(t, token, map[string]string{"title": "for all 3"})
	resp, _ = bea.PostForm(t, "/notifications/read_all", url.Values{"through": {strconv.FormatInt(b2, 10)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("mark all: %d, want 303", resp.StatusCode)
	}
	title, unread, body = feedState(t, bea)
	if title != "(1) Notifications · Beacon" || unread != 1 || !strings.Contains(itemClass(t, body, b3), "unread") {
		t.Fatalf("after mark all through %d: title %q, unread %d", b2, title, unread)
	}
	if n := markJSON(t, bea, "/notifications/read_all", b3); n != 0 {
		t.Fatalf("unread after mark all by fetch: %d, want 0", n)
	}
	if title, _, _ := feedState(t, bea); title != "Notifications · Beacon" {
		t.Fatalf("title with nothing unread: %q", title)
	}

	// The admin list shows recipients and how many read each.
	admin := app.Client(t)
	admin.Login(t, "ada@example.com", "correct horse")
	_, page := admin.Get(t, "/admin/notifications")
	if !strings.Contains(page, "<th>Read by</th>") || !strings.Contains(page, "cy@example.com") {
		t.Fatalf("admin list lacks read counts or recipients\n%s", page)
	}
	// b1, toBea, b2 and b3 were read by Bea alone; Cy's by nobody.
	if got := strings.Count(page, `<td class="read-by">1</td>`); got != 4 {
		t.Fatalf("%d notifications read by one user, want 4\n%s", got, page)
	}
}

func TestMarkingNeedsSignInAndCSRF(t *testing.T) {
	t.Parallel()
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	id := app.Notify(t, token, map[string]string{"title": "for all"})
	visitor := app.Client(t)
	resp, _ := visitor.PostForm(t, readPath(id), url.Values{})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("visitor marking: %d to %q, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
	app.CreateUser(t, "Bea", "bea@example.com", "long enough", false)
	bea := app.Client(t)
	bea.Login(t, "bea@example.com", "long enough")
	for _, path := range []string{readPath(id), "/notifications/read_all"} {
		if resp, _ := bea.PostFormRaw(t, path, url.Values{}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("%s without _csrf: %d, want 403", path, resp.StatusCode)
		}
	}
	if _, n, _ := feedState(t, bea); n != 1 {
		t.Fatalf("unread %d after refused markings, want 1", n)
	}
}

// User A can never see or mark user B's notification: marking it is 404
// like a missing one, and no page, stream, list or poll shows it.
func TestOthersNotificationIsInvisible(t *testing.T) {
	t.Parallel()
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	app.CreateUser(t, "Bea", "bea@example.com", "long enough", false)
	app.CreateUser(t, "Cy", "cy@example.com", "long enough", false)
	bea := app.Client(t)
	bea.Login(t, "bea@example.com", "long enough")
	live := open(t, bea, "0")
	if ev := live.NextEvent(t, wait); ev.Event != "unread" {
		t.Fatalf("first event %+v, want the unread count", ev)
	}

	secret := app.Notify(t, token, map[string]string{"title": "Cy's secret", "recipient": "cy@example.com"})
	after := app.Notify(t, token, map[string]string{"title": "for all"})

	for _, path := range []string{readPath(secret), readPath(after + 1000), "/notifications/abc/read"} {
		resp, body := bea.PostForm(t, path, url.Values{})
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("POST %s: %d, want 404\n%s", path, resp.StatusCode, body)
		}
	}
	form := url.Values{"_csrf": {bea.CSRF(t)}}
	req, _ := http.NewRequest(http.MethodPost, bea.URL(readPath(secret)), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := bea.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("POST by fetch on another's notification: %d, want 404", resp.StatusCode)
	}

	if _, body := bea.Get(t, "/"); strings.Contains(body, "Cy&#39;s secret") || strings.Contains(body, "Cy's secret") ||
		strings.Contains(body, fmt.Sprintf("notification-%d", secret)) {
		t.Fatal("the feed shows another user's notification")
	}
	for _, path := range []string{"/api/notifications?after=0", "/api/notifications/poll?after=0&timeout=0"} {
		_, body := bea.Get(t, path)
		var list struct{ Notifications []payload }
		if err := json.Unmarshal([]byte(body), &list); err != nil {
			t.Fatalf("%s: %v\n%s", path, err, body)
		}
		if len(list.Notifications) != 1 || list.Notifications[0].ID != after {
			t.Fatalf("%s shows %+v, want only %d", path, list.Notifications, after)
		}
	}
	// Live, the stream skips it; on replay too.
	if p := decode(t, live.NextEvent(t, wait)); p.ID != after {
		t.Fatalf("live stream sent %d, want %d", p.ID, after)
	}
	replay := open(t, bea, "0")
	if p := decode(t, replay.NextEvent(t, wait)); p.ID != after {
		t.Fatalf("replay sent %d, want %d", p.ID, after)
	}

	// Cy sees it, and it is unread for Cy only.
	cy := app.Client(t)
	cy.Login(t, "cy@example.com", "long enough")
	if _, n, body := feedState(t, cy); n != 2 || !strings.Contains(body, fmt.Sprintf("notification-%d", secret)) {
		t.Fatalf("Cy: unread %d", n)
	}
}

// unreadOf decodes an unread event, which must carry no id.
func unreadOf(t *testing.T, ev apptest.Event) int {
	t.Helper()
	var d struct{ Unread *int }
	if ev.Event != "unread" || ev.ID != "" || json.Unmarshal([]byte(ev.Data), &d) != nil || d.Unread == nil {
		t.Fatalf("got %+v, want an unread event without id", ev)
	}
	return *d.Unread
}

func TestStreamCarriesUnreadCountAcrossTabs(t *testing.T) {
	t.Parallel()
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	app.CreateUser(t, "Bea", "bea@example.com", "long enough", false)
	app.CreateUser(t, "Cy", "cy@example.com", "long enough", false)
	first := app.Notify(t, token, map[string]string{"title": "one"})
	second := app.Notify(t, token, map[string]string{"title": "two"})

	bea := app.Client(t)
	bea.Login(t, "bea@example.com", "long enough")
	// The other tab resumes after the first: it is sent the second, then
	// the count up to it.
	tab := open(t, bea, strconv.FormatInt(first, 10))
	if p := decode(t, tab.NextEvent(t, wait)); p.ID != second {
		t.Fatalf("replay sent %d, want %d", p.ID, second)
	}
	if n := unreadOf(t, tab.NextEvent(t, wait)); n != 2 {
		t.Fatalf("unread after replay %d, want 2", n)
	}

	// Reading in this tab updates the other: what changed, then the count.
	bea.PostForm(t, readPath(first), url.Values{})
	if ev := tab.NextEvent(t, wait); ev.Event != "state" || ev.Data != `{"ids":[`+strconv.FormatInt(first, 10)+`],"read":true}` {
		t.Fatalf("after marking one: %+v, want its state", ev)
	}
	if n := unreadOf(t, tab.NextEvent(t, wait)); n != 1 {
		t.Fatalf("unread after marking one %d, want 1", n)
	}
	// A new notification comes as itself; the page adds it to the count.
	third := app.Notify(t, token, map[string]string{"title": "three"})
	if p := decode(t, tab.NextEvent(t, wait)); p.ID != third {
		t.Fatalf("got %d, want %d", p.ID, third)
	}
	// Another user's reading says nothing to Bea's stream.
	cy := app.Client(t)
	cy.Login(t, "cy@example.com", "long enough")
	cy.PostForm(t, "/notifications/read_all", url.Values{})
	fourth := app.Notify(t, token, map[string]string{"title": "four"})
	if p := decode(t, tab.NextEvent(t, wait)); p.ID != fourth {
		t.Fatalf("got %d, want %d", p.ID, fourth)
	}
	bea.PostForm(t, "/notifications/read_all", url.Values{})
	if ev := tab.NextEvent(t, wait); ev.Event != "state" || ev.Data != `{"all":true,"read":true,"through":`+strconv.FormatInt(fourth, 10)+`}` {
		t.Fatalf("after marking all: %+v, want the state through %d", ev, fourth)
	}
	if n := unreadOf(t, tab.NextEvent(t, wait)); n != 0 {
		t.Fatalf("unread after mark all %d, want 0", n)
	}

	// A visitor's stream carries no count.
	visitor := open(t, app.Client(t), strconv.FormatInt(fourth, 10))
	fifth := app.Notify(t, token, map[string]string{"title": "five"})
	if p := decode(t, visitor.NextEvent(t, wait)); p.ID != fifth {
		t.Fatalf("visitor got %d, want %d", p.ID, fifth)
	}
}
