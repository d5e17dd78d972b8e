package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"beacon/app/apptest"
)

// A post to a list of users and groups (INTERFACE.md, "Audiences"): one
// notification, seen by the users it names and the members of its groups,
// live and in replays, each told only their own part of its audience; a
// user who leaves a group has their streams reset and stops seeing it.
func TestAPostToGroupsAndUsersReachesItsAudienceAlone(t *testing.T) {
	forEachStreamMode(t, testAudience)
}

// forEachStreamMode runs test on both databases, with streams the hub
// takes over and replays from memory, and with streams served in their
// handler (TLS) and replayed from the database.
func forEachStreamMode(t *testing.T, test func(t *testing.T, opts apptest.Options)) {
	for _, mode := range []struct {
		name string
		opts apptest.Options
	}{
		{"taken-over streams, replay from memory", apptest.Options{}},
		{"streams in their handler, replay from the database", apptest.Options{TLS: true, ResumeWindow: -1}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
				opts.TLS, opts.ResumeWindow = mode.opts.TLS, mode.opts.ResumeWindow
				test(t, opts)
			})
		})
	}
}

type audienceViewer struct {
	name   string
	client *apptest.Client
	live   *apptest.Stream
}

func testAudience(t *testing.T, opts apptest.Options) {
	ctx := context.Background()
	app, _, token := apptest.WithAdmin(t, opts)
	if _, err := app.Store.CreateGroup(ctx, "ops", true); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Store.CreateGroup(ctx, "dev", false); err != nil {
		t.Fatal(err)
	}
	viewers := map[string]*audienceViewer{}
	for _, name := range []string{"ann", "bob", "cat", "dan"} {
		app.CreateUser(t, name, name+"@example.com", "password "+name, false)
		c := app.Client(t)
		c.Login(t, name+"@example.com", "password "+name)
		viewers[name] = &audienceViewer{name: name, client: c}
	}
	if _, err := app.Store.AddGroupMembers(ctx, "ops", []string{"ann@example.com", "bob@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Store.AddGroupMembers(ctx, "dev", []string{"bob@example.com"}); err != nil {
		t.Fatal(err)
	}
	viewers["visitor"] = &audienceViewer{name: "visitor", client: app.Client(t)}
	for _, v := range viewers {
		v.live = v.client.OpenStream(t, "")
	}
	start := app.Notify(t, token, map[string]string{"title": "start"})
	for _, v := range viewers {
		readUntil(t, v.live, start)
	}

	resp, body := app.PostAPI(t, token, map[string]any{"title": "deploy", "to": []string{"group:ops", "cat@example.com"}})
	if resp.StatusCode != http.StatusCreated || !strings.Contains(body, `"to":["cat@example.com","group:ops"]`) {
		t.Fatalf("post to ops and cat: %d %s; want 201 with to in full", resp.StatusCode, body)
	}
	marker := app.Notify(t, token, map[string]string{"title": "marker"})

	// What each is told of the audience: their own email if named, the
	// groups of it they are in; never the others.
	want := map[string]string{
		"ann": `"recipient":null,.*"groups":["ops"]`,
		"bob": `"recipient":null,.*"groups":["ops"]`,
		"cat": `"recipient":"cat@example.com",`,
	}
	check := func(what string, got map[string][]apptest.Event) {
		t.Helper()
		for name, evs := range got {
			var deploy []apptest.Event
			for _, ev := range evs {
				if strings.Contains(ev.Data, `"title":"deploy"`) {
					deploy = append(deploy, ev)
				}
			}
			pattern, sees := want[name]
			switch {
			case !sees && len(deploy) > 0:
				t.Errorf("%s: %s got the post for ops and cat: %+v", what, name, deploy)
			case sees && (len(deploy) != 1 || deploy[0].Event != "notification"):
				t.Errorf("%s: %s got %+v, want one notification", what, name, deploy)
			case sees && !matches(pattern, deploy[0].Data):
				t.Errorf("%s: %s was told %s, want %s", what, name, deploy[0].Data, pattern)
			}
			// Never another's email, nor a group they are not in.
			for _, ev := range deploy {
				for _, other := range []string{"ann", "bob", "cat", "dan"} {
					if other != name && strings.Contains(ev.Data, other+"@example.com") {
						t.Errorf("%s: %s was told that %s is in the audience: %s", what, name, other, ev.Data)
					}
				}
				if name == "cat" && strings.Contains(ev.Data, "ops") || strings.Contains(ev.Data, "dev") {
					t.Errorf("%s: %s was told of a group they are not in: %s", what, name, ev.Data)
				}
			}
		}
	}
	live := map[string][]apptest.Event{}
	for name, v := range viewers {
		live[name] = readUntil(t, v.live, marker)
	}
	check("live", live)
	replayed := map[string][]apptest.Event{}
	for name, v := range viewers {
		s := v.client.OpenStream(t, fmt.Sprint(start))
		replayed[name] = readUntil(t, s, marker)
		s.Close()
	}
	check("replay", replayed)
	// The list and the long poll tell the same.
	for _, path := range []string{"/api/notifications?after=", "/api/notifications/poll?timeout=0&after="} {
		listed := map[string][]apptest.Event{}
		for name, v := range viewers {
			_, body := v.client.Get(t, path+fmt.Sprint(start))
			listed[name] = listEvents(t, body)
		}
		check(path, listed)
	}

	// Bob leaves ops (a topic): his stream is reset, and from then on he
	// sees nothing of ops, before or after.
	bob := viewers["bob"]
	resp, body = bob.client.PostForm(t, "/topics/ops/leave", url.Values{"_csrf": {bob.client.CSRF(t)}})
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("bob leaves ops: %d %s", resp.StatusCode, body)
	}
	for {
		ev := bob.live.NextEvent(t, 5*time.Second)
		if ev.Event == "reset" {
			break
		}
		if ev.Event == "notification" {
			t.Fatalf("bob, leaving ops: %+v before his reset", ev)
		}
	}
	app.PostAPI(t, token, map[string]any{"title": "deploy", "to": []string{"group:ops"}})
	marker = app.Notify(t, token, map[string]string{"title": "marker 2"})
	delete(want, "bob")
	live = map[string][]apptest.Event{}
	for _, name := range []string{"ann", "bob", "dan"} {
		live[name] = readUntil(t, viewers[name].live, marker)
	}
	want["ann"] = `"recipient":null,.*"groups":["ops"]`
	check("live, after bob left", live)
	// A tab of bob's that was away meanwhile holds what his old groups
	// chose: resuming from before the change, it is reset; resuming from
	// where that reset puts it, it is replayed by the new membership.
	s := bob.client.OpenStream(t, fmt.Sprint(start))
	var reset apptest.Event
	for reset.Event == "" || reset.Event == "unread" {
		if reset = s.NextEvent(t, 5*time.Second); reset.Event == "notification" {
			t.Fatalf("bob, resuming from before he left ops: %+v, want reset first", reset)
		}
	}
	s.Close()
	if reset.Event != "reset" {
		t.Fatalf("bob, resuming from before he left ops: %+v, want reset", reset)
	}
	s = bob.client.OpenStream(t, reset.ID)
	for {
		ev := s.NextEvent(t, 2*time.Second)
		if ev.Event == "unread" {
			break // the replay is over
		}
		if strings.Contains(ev.Data, "deploy") || ev.Event == "reset" {
			t.Fatalf("bob, resuming from his reset: %+v", ev)
		}
	}
	s.Close()
	_, page := bob.client.Get(t, "/")
	if strings.Contains(page, "deploy") {
		t.Error("bob's feed page, after he left ops, shows its notifications")
	}
	// The page's stream starts where the page is current to: past the
	// change, so it is not reset again (a reset there would reload the page
	// for ever).
	m := regexp.MustCompile(`data-position="(\d+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("bob's feed page has no data-position")
	}
	s = bob.client.OpenStream(t, m[1])
	for {
		ev := s.NextEvent(t, 2*time.Second)
		if ev.Event == "reset" {
			t.Fatalf("bob's feed page, after he left ops: its stream from %s is reset", m[1])
		}
		if ev.Event == "unread" {
			break
		}
	}
	s.Close()
	_, page = viewers["ann"].client.Get(t, "/")
	if strings.Count(page, ">deploy<") != 2 {
		t.Errorf("ann's feed page shows %d of ops's two notifications", strings.Count(page, ">deploy<"))
	}

	// A long poll waiting for ann hears a post to ops.
	after, subscribed := app.LastNotificationID(t), app.Subscribers()
	waiting := make(chan []apptest.Event, 1)
	go func() {
		_, body := viewers["ann"].client.Get(t, fmt.Sprintf("/api/notifications/poll?timeout=10&after=%d", after))
		waiting <- listEvents(t, body)
	}()
	for deadline := time.Now().Add(5 * time.Second); app.Subscribers() == subscribed; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("ann's long poll did not start waiting within 5s")
		}
	}
	app.PostAPI(t, token, map[string]any{"title": "deploy 3", "to": []string{"group:ops"}})
	if got := <-waiting; len(got) != 1 || !matches(`"title":"deploy 3"`+`.*"groups":["ops"]`, got[0].Data) {
		t.Errorf("ann's waiting long poll answered %+v, want the post to ops", got)
	}
}

// listEvents is a list API answer's notifications as `notification`
// events, for check.
func listEvents(t *testing.T, body string) []apptest.Event {
	t.Helper()
	var list struct{ Notifications []json.RawMessage }
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatalf("list answer %q: %v", body, err)
	}
	var evs []apptest.Event
	for _, n := range list.Notifications {
		evs = append(evs, apptest.Event{Event: "notification", Data: string(n)})
	}
	return evs
}

// readUntil reads s up to the event at position id and returns what it read.
func readUntil(t *testing.T, s *apptest.Stream, id int64) []apptest.Event {
	t.Helper()
	var evs []apptest.Event
	for {
		ev := s.NextEvent(t, 5*time.Second)
		evs = append(evs, ev)
		if ev.ID == fmt.Sprint(id) {
			return evs
		}
	}
}

func matches(pattern, s string) bool {
	parts := strings.Split(pattern, ".*")
	for _, p := range parts {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}

// Bad audiences are refused with the entry named, and nothing is stored.
func TestABadAudienceIsRefusedAndStoresNothing(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app, _, token := apptest.WithAdmin(t, opts)
		app.CreateUser(t, "ann", "ann@example.com", "password ann", false)
		if _, err := app.Store.CreateGroup(context.Background(), "ops", false); err != nil {
			t.Fatal(err)
		}
		thousandAndOne := make([]string, 1001)
		for i := range thousandAndOne {
			thousandAndOne[i] = "ann@example.com"
		}
		for _, c := range []struct {
			body map[string]any
			want string
		}{
			{map[string]any{"title": "x", "to": []string{"ann@example.com", "nobody@example.com", "group:nope"}}, `"to":"unknown user or group: nobody@example.com, group:nope"`},
			{map[string]any{"title": "x", "recipient": "ann@example.com", "to": []string{"group:ops"}}, `"to":"give recipient or to, not both"`},
			{map[string]any{"title": "x", "to": thousandAndOne}, `"to":"at most 1000 entries"`},
			{map[string]any{"title": "", "to": []string{"group:nope"}}, `"to":"unknown user or group: group:nope"`},
		} {
			resp, body := app.PostAPI(t, token, c.body)
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, c.want) {
				t.Errorf("%v: %d %s; want 422 with %s", c.body["to"], resp.StatusCode, body, c.want)
			}
		}
		// Not a list of strings: the body is refused as it is.
		if resp, body := app.PostAPI(t, token, map[string]any{"title": "x", "to": "group:ops"}); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "to") {
			t.Errorf("to as a string: %d %s; want 400 naming to", resp.StatusCode, body)
		}
		if n := countNotifications(t, app); n != 0 {
			t.Fatalf("%d notifications stored", n)
		}
		var audiences int64
		if err := app.Store.SQL().QueryRow("SELECT COUNT(*) FROM audiences").Scan(&audiences); err != nil || audiences != 0 {
			t.Fatalf("%d audiences stored (%v)", audiences, err)
		}
	})
}
