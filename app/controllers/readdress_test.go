package controllers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"beacon/app/apptest"
)

// An edit that changes a notification's audience (INTERFACE.md,
// "Audiences": PATCH and the edit form take `to`): whoever loses it gets
// `withdraw`, whoever gains it gets it as `notification`, whoever keeps it
// gets `update`; live, resuming from memory or the database, in the list
// and the long poll.
func TestReaddressingANotificationWithdrawsItFromLosersAndDeliversItToGainers(t *testing.T) {
	forEachStreamMode(t, testReaddress)
}

func testReaddress(t *testing.T, opts apptest.Options) {
	ctx := context.Background()
	app, _, token := apptest.WithAdmin(t, opts)
	if _, err := app.Store.CreateGroup(ctx, "ops", false); err != nil {
		t.Fatal(err)
	}
	viewers := map[string]*audienceViewer{}
	for _, name := range []string{"ann", "bob", "cat"} {
		app.CreateUser(t, name, name+"@example.com", "password "+name, false)
		c := app.Client(t)
		c.Login(t, name+"@example.com", "password "+name)
		viewers[name] = &audienceViewer{name: name, client: c}
	}
	if _, err := app.Store.AddGroupMembers(ctx, "ops", []string{"ann@example.com", "bob@example.com"}); err != nil {
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
	resp, body := app.PostAPI(t, token, map[string]any{"title": "deploy", "to": []string{"group:ops"}})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("post to ops: %d %s", resp.StatusCode, body)
	}
	id := app.LastNotificationID(t)
	posted := app.Notify(t, token, map[string]string{"title": "posted"})
	for _, v := range viewers {
		readUntil(t, v.live, posted)
	}

	// From ops (ann, bob) to bob and cat.
	path := fmt.Sprintf("/api/notifications/%d", id)
	resp, body = apiCall(t, app, http.MethodPatch, path, token, "application/json", `{"title":"deploy v2","to":["bob@example.com","cat@example.com"]}`)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"to":["bob@example.com","cat@example.com"]`) {
		t.Fatalf("PATCH to: %d %s; want 200 with the new to", resp.StatusCode, body)
	}
	marker := app.Notify(t, token, map[string]string{"title": "marker"})

	// What each is sent of the deploy, as event kinds and titles.
	want := map[string]string{"ann": "withdraw", "bob": "update deploy v2", "cat": "notification deploy v2", "visitor": ""}
	told := func(evs []apptest.Event) string {
		var got []string
		for _, ev := range evs {
			if !strings.Contains(ev.Data, fmt.Sprintf(`"id":%d,`, id)) && ev.Data != fmt.Sprintf(`{"id":%d}`, id) {
				continue
			}
			s := ev.Event
			if strings.Contains(ev.Data, `"title":"deploy v2"`) {
				s += " deploy v2"
			} else if strings.Contains(ev.Data, `"title"`) {
				s += " deploy"
			}
			got = append(got, s)
		}
		return strings.Join(got, ", ")
	}
	check := func(what string, got map[string][]apptest.Event, want map[string]string) {
		t.Helper()
		for name, evs := range got {
			if s := told(evs); s != want[name] {
				t.Errorf("%s: %s was sent %q, want %q", what, name, s, want[name])
			}
			for _, ev := range evs {
				if name == "ann" && strings.Contains(ev.Data, "deploy v2") {
					t.Errorf("%s: ann, who lost it, was sent its new content: %s", what, ev.Data)
				}
				if name != "cat" && strings.Contains(ev.Data, "cat@example.com") || name != "bob" && strings.Contains(ev.Data, "bob@example.com") {
					t.Errorf("%s: %s was told another's email: %s", what, name, ev.Data)
				}
			}
		}
	}
	live := map[string][]apptest.Event{}
	for name, v := range viewers {
		live[name] = readUntil(t, v.live, marker)
	}
	check("live", live, want)

	// Resuming from before the change: the same. From before the post: as
	// if it had been posted to bob and cat.
	for _, from := range []struct {
		after int64
		want  map[string]string
	}{
		{posted, want},
		{start, map[string]string{"ann": "", "bob": "notification deploy v2", "cat": "notification deploy v2", "visitor": ""}},
	} {
		replayed := map[string][]apptest.Event{}
		for name, v := range viewers {
			s := v.client.OpenStream(t, fmt.Sprint(from.after))
			replayed[name] = readUntil(t, s, marker)
			s.Close()
		}
		check(fmt.Sprintf("replay from %d", from.after), replayed, from.want)
	}
	// The list and the long poll: a withdrawn stub for ann.
	for _, path := range []string{"/api/notifications?after=", "/api/notifications/poll?timeout=0&after="} {
		for name, v := range viewers {
			_, body := v.client.Get(t, path+fmt.Sprint(posted))
			has := strings.Contains(body, fmt.Sprintf(`"id":%d,`, id))
			switch {
			case name == "ann" && !strings.Contains(body, fmt.Sprintf(`{"id":%d,"position":`, id)+"") || name == "ann" && !strings.Contains(body, `"withdrawn":true`):
				t.Errorf("%s for ann: %s, want %d withdrawn", path, body, id)
			case name == "visitor" && has:
				t.Errorf("%s for the visitor: %s names %d", path, body, id)
			case (name == "bob" || name == "cat") && !strings.Contains(body, `"title":"deploy v2"`):
				t.Errorf("%s for %s: %s, want deploy v2", path, name, body)
			}
		}
	}
	// ann's stream resumes from the withdrawal's id without a reset.
	var withdrawal string
	for _, ev := range live["ann"] {
		if ev.Event == "withdraw" {
			withdrawal = ev.ID
		}
	}
	s := viewers["ann"].client.OpenStream(t, withdrawal)
	for {
		ev := s.NextEvent(t, 5*time.Second)
		if ev.Event == "reset" {
			t.Errorf("ann resuming from the withdrawal's id %s: reset", withdrawal)
		}
		if ev.Event == "unread" {
			break // the replay is over
		}
	}
	s.Close()

	// Back to everyone, by the edit form: ann and the visitor gain it.
	admin := app.Client(t)
	admin.Login(t, apptest.AdminEmail, apptest.AdminPassword)
	_, form := admin.Get(t, "/admin"+path[len("/api"):]+"/edit")
	if !strings.Contains(form, `name="to" value="bob@example.com, cat@example.com"`) {
		t.Error("edit form: want its To filled with bob and cat")
	}
	resp, body = admin.PostForm(t, "/admin"+path[len("/api"):], url.Values{"_csrf": {admin.CSRF(t)}, "title": {"deploy v3"}, "body": {""}, "level": {"info"}, "to": {""}})
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit form to everyone: %d %s", resp.StatusCode, body)
	}
	marker2 := app.Notify(t, token, map[string]string{"title": "marker 2"})
	want = map[string]string{"ann": "notification deploy", "bob": "update deploy", "cat": "update deploy", "visitor": "notification deploy"}
	live = map[string][]apptest.Event{}
	for name, v := range viewers {
		live[name] = readUntil(t, v.live, marker2)
	}
	check("live, back to everyone", live, want)

	// A key names one live notification per audience: readdressing one
	// onto another's is refused, and changes nothing.
	app.PostAPI(t, token, map[string]any{"title": "build", "key": "build", "to": []string{"group:ops"}})
	keyed := app.LastNotificationID(t)
	app.PostAPI(t, token, map[string]any{"title": "build", "key": "build"})
	resp, body = apiCall(t, app, http.MethodPatch, fmt.Sprintf("/api/notifications/%d", keyed), token, "application/json", `{"to":[]}`)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `"to":"a live notification to that audience has the same key"`) {
		t.Errorf("readdressing onto a taken key: %d %s; want 422", resp.StatusCode, body)
	}
	n, err := app.Store.NotificationByID(ctx, keyed)
	if err != nil || n.AudienceID == nil || n.AudiencePosition != 0 {
		t.Errorf("after a refused readdress: %+v %v; want it as posted", n, err)
	}
}
