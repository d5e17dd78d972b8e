package controllers_test

import (
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"beacon/app/apptest"
)

var lastIDRE = regexp.MustCompile(`data-last-id="(\d+)"`)

// A scheduled notification arrives when it falls due: the feed lists it
// first, unread, even for a user who marked all read after it was posted,
// and the page's "mark all" then covers it.
func TestFeedScheduledArrivesFirstAndUnread(t *testing.T) {
	t.Parallel()
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	app.CreateUser(t, "Bea", "bea@example.com", "long enough", false)
	due := time.Now().Add(time.Hour).UTC()
	sched := app.Notify(t, token, map[string]string{"title": "scheduled", "deliver_at": due.Format(time.RFC3339)})
	app.Notify(t, token, map[string]string{"title": "before it"})
	last := app.Notify(t, token, map[string]string{"title": "newest posted"})

	bea := app.Client(t)
	bea.Login(t, "bea@example.com", "long enough")
	_, unread, body := feedState(t, bea)
	if unread != 2 || strings.Contains(body, `id="notification-`+itoa(sched)+`"`) {
		t.Fatalf("before due: unread %d, scheduled shown: %v", unread, strings.Contains(body, "notification-"+itoa(sched)))
	}
	through := pageThrough(t, body)
	if through != last {
		t.Fatalf("data-last-id %d, want %d", through, last)
	}
	if n := markJSON(t, bea, "/notifications/read_all", through); n != 0 {
		t.Fatalf("unread after mark all: %d", n)
	}

	if n, _, err := app.Store.DeliverDue(context.Background(), due.Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("deliver: %d %v", n, err)
	}
	title, unread, body := feedState(t, bea)
	if title != "(1) Notifications · Beacon" || unread != 1 || !strings.Contains(itemClass(t, body, sched), "unread") {
		t.Fatalf("after delivery: title %q, unread %d, class %q", title, unread, itemClass(t, body, sched))
	}
	first := regexp.MustCompile(`id="notification-(\d+)"`).FindStringSubmatch(body)
	if first == nil || first[1] != itoa(sched) {
		t.Fatalf("first on the feed: %v, want %d", first, sched)
	}
	delivered := pageThrough(t, body)
	if delivered <= last {
		t.Fatalf("data-last-id %d after delivery, want past %d", delivered, last)
	}
	if !strings.Contains(body, `name="through" value="`+itoa(delivered)+`"`) {
		t.Fatalf("mark-all form does not carry through=%d", delivered)
	}
	resp, _ := bea.PostForm(t, "/notifications/read_all", url.Values{"through": {itoa(delivered)}})
	if resp.StatusCode != 303 {
		t.Fatalf("mark all: %d", resp.StatusCode)
	}
	if _, unread, _ := feedState(t, bea); unread != 0 {
		t.Fatalf("unread after marking all through %d: %d", delivered, unread)
	}
}

func pageThrough(t *testing.T, body string) int64 {
	t.Helper()
	m := lastIDRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no data-last-id on the feed")
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}
