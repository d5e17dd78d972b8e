package controllers_test

import (
	"fmt"
	"html"
	"strings"
	"testing"
	"time"

	"beacon/app/apptest"
)

// A notification with a recipient reaches that user alone, on every route.
func TestTargetedNotificationReachesOnlyItsRecipient(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app, _, token := apptest.WithAdmin(t, opts)
		app.CreateUser(t, "Bob", "bob@example.com", "password bob", false)
		app.CreateUser(t, "Cat", "cat@example.com", "password cat", false)
		bob, cat, visitor := app.Client(t), app.Client(t), app.Client(t)
		bob.Login(t, "bob@example.com", "password bob")
		cat.Login(t, "cat@example.com", "password cat")

		bobStream, catStream, visitorStream := open(t, bob, ""), open(t, cat, ""), open(t, visitor, "")
		private := app.Notify(t, token, map[string]string{"title": "for bob only", "recipient": "bob@example.com"})
		public := app.Notify(t, token, map[string]string{"title": "for everyone"})

		// Bob gets both, in order; the others get the broadcast first and only.
		if got := nextNotification(t, bobStream); got.ID != private || got.Recipient == nil || *got.Recipient != "bob@example.com" {
			t.Fatalf("bob's stream: %+v", got)
		}
		if got := nextNotification(t, bobStream); got.ID != public {
			t.Fatalf("bob's stream: %+v", got)
		}
		for name, s := range map[string]*apptest.Stream{"cat": catStream, "visitor": visitorStream} {
			if got := nextNotification(t, s); got.ID != public {
				t.Fatalf("%s's stream got %d, want only the broadcast %d", name, got.ID, public)
			}
		}

		for name, c := range map[string]*apptest.Client{"cat": cat, "visitor": visitor} {
			_, l := getList(t, c, "/api/notifications")
			if fmt.Sprint(ids(l)) != fmt.Sprint([]int64{public}) {
				t.Errorf("%s's list: %v", name, ids(l))
			}
			_, l = getList(t, c, "/api/notifications/poll?after=0&timeout=0")
			if fmt.Sprint(ids(l)) != fmt.Sprint([]int64{public}) {
				t.Errorf("%s's poll: %v", name, ids(l))
			}
			_, page := c.Get(t, "/")
			if strings.Contains(page, "for bob only") || !strings.Contains(page, "for everyone") {
				t.Errorf("%s's feed shows the wrong notifications", name)
			}
			// Replay from the start must not leak it either.
			s := open(t, c, "0")
			if got := nextNotification(t, s); got.ID != public {
				t.Errorf("%s's replay got %d", name, got.ID)
			}
		}
		_, l := getList(t, bob, "/api/notifications")
		if fmt.Sprint(ids(l)) != fmt.Sprint([]int64{private, public}) {
			t.Errorf("bob's list: %v", ids(l))
		}
		if _, page := bob.Get(t, "/"); !strings.Contains(page, "for bob only") {
			t.Errorf("bob's feed lacks his notification")
		}
	})
}

// Titles and bodies are text everywhere: the page, the admin list and the
// stream's html fragment escape them.
func TestMarkupInNotificationsIsEscaped(t *testing.T) {
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	const title, body = `<script>alert(1)</script>`, `<img src=x onerror=alert(2)>`
	visitor := app.Client(t)
	s := open(t, visitor, "")
	app.Notify(t, token, map[string]string{"title": title, "body": body})

	p := nextNotification(t, s)
	if p.Title != title || p.Body != body {
		t.Fatalf("JSON fields must carry the text as sent: %+v", p)
	}
	admin := app.Client(t)
	admin.Login(t, "ada@example.com", "correct horse")
	_, feed := visitor.Get(t, "/")
	_, list := admin.Get(t, "/admin/notifications")
	for name, doc := range map[string]string{"html field": p.HTML, "feed": feed, "admin list": list} {
		if strings.Contains(doc, "<script>alert") || strings.Contains(doc, "<img src=x") {
			t.Errorf("%s has live markup:\n%s", name, doc)
		}
		if !strings.Contains(html.UnescapeString(doc), title) {
			t.Errorf("%s does not show the title as text", name)
		}
	}
}

func TestUnresumableLastEventIDGetsReset(t *testing.T) {
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	last := app.Notify(t, token, map[string]string{"title": "one"})
	c := app.Client(t)
	for _, id := range []string{"abc", "-1", "99999", "1e3"} {
		s := open(t, c, id)
		ev := s.NextEvent(t, wait)
		want := fmt.Sprintf(`{"last_id":%d}`, last)
		if ev.Event != "reset" || ev.Data != want || ev.ID != fmt.Sprint(last) {
			t.Fatalf("Last-Event-ID %q: got %+v, want reset %s", id, ev, want)
		}
		live := app.Notify(t, token, map[string]string{"title": "after reset"})
		if got := nextNotification(t, s); got.ID != live {
			t.Fatalf("after reset got %d, want live %d", got.ID, live)
		}
		last = live
		s.Close()
	}
}

func TestQueryLastEventIDAndHeaderWins(t *testing.T) {
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	a := app.Notify(t, token, map[string]string{"title": "a"})
	b := app.Notify(t, token, map[string]string{"title": "b"})
	c := app.Client(t)

	s := c.OpenStreamURL(t, fmt.Sprintf("/notifications/stream?last_event_id=%d", a), "")
	s.NextEvent(t, wait) // retry
	if got := nextNotification(t, s); got.ID != b {
		t.Fatalf("?last_event_id=%d replayed %d, want %d", a, got.ID, b)
	}
	s.Close()
	// Header says "after b", query says "from the start": the header wins,
	// so the first event is the next live one.
	s = c.OpenStreamURL(t, "/notifications/stream?last_event_id=0", fmt.Sprint(b))
	s.NextEvent(t, wait)
	live := app.Notify(t, token, map[string]string{"title": "live"})
	if got := decode(t, s.NextEvent(t, 2*time.Second)); got.ID != live {
		t.Fatalf("got %d, want %d", got.ID, live)
	}
}

// Signing out ends the user's open streams, so a tab left open on a shared
// computer stops receiving that user's notifications.
func TestSignOutEndsTheUsersStreams(t *testing.T) {
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	app.CreateUser(t, "Bob", "bob@example.com", "password bob", false)
	bob := app.Client(t)
	bob.Login(t, "bob@example.com", "password bob")
	s := open(t, bob, "")
	if resp, _ := bob.PostForm(t, "/logout", nil); resp.StatusCode != 303 {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	app.Notify(t, token, map[string]string{"title": "for bob only", "recipient": "bob@example.com"})
	for {
		ev, ok := s.Next(t, wait)
		if !ok {
			return // ended, as it should
		}
		if ev.Event == "notification" {
			t.Fatalf("a signed-out stream got %s", ev.Data)
		}
	}
}

// A reset tells a client the newest id it may see, not the newest overall,
// which would tell anyone when notifications for others are posted.
func TestResetDoesNotRevealOthersNotifications(t *testing.T) {
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	app.CreateUser(t, "Bob", "bob@example.com", "password bob", false)
	public := app.Notify(t, token, map[string]string{"title": "for everyone"})
	app.Notify(t, token, map[string]string{"title": "for bob only", "recipient": "bob@example.com"})
	ev := open(t, app.Client(t), "99999").NextEvent(t, wait)
	if want := fmt.Sprintf(`{"last_id":%d}`, public); ev.Event != "reset" || ev.Data != want || ev.ID != fmt.Sprint(public) {
		t.Fatalf("got %+v, want reset to %s", ev, want)
	}
}
