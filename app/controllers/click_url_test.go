package controllers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"beacon/app/apptest"
)

// A notification may carry a click target, `url` (INTERFACE.md, "Web Push",
// url): an http(s) address or a local path; the feed card links to it, the
// wire JSON carries it (null for none), an edit changes or clears it, and
// anything else is 422 with nothing stored.
func TestANotificationsClickTargetIsCheckedStoredAndLinked(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app, _, token := apptest.WithAdmin(t, opts)
		for _, bad := range []string{"javascript:alert(1)", "//evil.example", `/\evil.example`, "ftp://files.example", "relative"} {
			resp, body := app.PostAPI(t, token, map[string]string{"title": "x", "url": bad})
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `"url":"must be an https://`) {
				t.Errorf("url %q: %d %s, want 422 naming url", bad, resp.StatusCode, body)
			}
		}
		if n := countNotifications(t, app); n != 0 {
			t.Fatalf("%d notifications stored by refused posts", n)
		}

		visitor := app.Client(t)
		live := visitor.OpenStream(t, "")
		plain := app.Notify(t, token, map[string]string{"title": "no link"})
		resp, body := app.PostAPI(t, token, map[string]string{"title": "incident", "url": "https://status.example.com/i/7"})
		if resp.StatusCode != http.StatusCreated || !strings.Contains(body, `"url":"https://status.example.com/i/7"`) {
			t.Fatalf("post with a url: %d %s", resp.StatusCode, body)
		}
		linked := app.LastNotificationID(t)
		evs := readUntil(t, live, linked)
		if got := evs[len(evs)-1].Data; !strings.Contains(got, `"url":"https://status.example.com/i/7"`) ||
			!strings.Contains(got, `href=\"https://status.example.com/i/7\"`) {
			t.Errorf("the stream's frame: %s, want the url and a link to it", got)
		}
		for _, ev := range evs {
			if ev.ID == fmt.Sprint(plain) && !strings.Contains(ev.Data, `"url":null`) {
				t.Errorf("a notification without one: %s, want \"url\":null", ev.Data)
			}
		}
		_, page := visitor.Get(t, "/")
		if !strings.Contains(page, `<a href="https://status.example.com/i/7" rel="noopener">incident</a>`) {
			t.Error("the feed card does not link to the url")
		}

		// PATCH changes it to a local path, and "" clears it.
		path := fmt.Sprintf("/api/notifications/%d", linked)
		resp, body = apiCall(t, app, http.MethodPatch, path, token, "application/json", `{"url":"/chat"}`)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"url":"/chat"`) {
			t.Errorf("PATCH url: %d %s", resp.StatusCode, body)
		}
		resp, body = apiCall(t, app, http.MethodPatch, path, token, "application/json", `{"url":"javascript:void(0)"}`)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("PATCH a bad url: %d %s, want 422", resp.StatusCode, body)
		}
		resp, body = apiCall(t, app, http.MethodPatch, path, token, "application/json", `{"url":""}`)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"url":null`) {
			t.Errorf("PATCH url to none: %d %s", resp.StatusCode, body)
		}

		// The admin form: a bad one re-renders the form with the error.
		admin := app.Client(t)
		admin.Login(t, apptest.AdminEmail, apptest.AdminPassword)
		resp, body = admin.PostForm(t, "/admin/notifications", url.Values{"_csrf": {admin.CSRF(t)}, "title": {"from the form"},
			"level": {"info"}, "url": {"javascript:alert(1)"}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `name="url" value="javascript:alert(1)"`) {
			t.Errorf("form with a bad url: %d, want 422 with the form and its value", resp.StatusCode)
		}
		resp, _ = admin.PostForm(t, "/admin/notifications", url.Values{"_csrf": {admin.CSRF(t)}, "title": {"from the form"},
			"level": {"info"}, "url": {"/topics"}})
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("form with a url: %d", resp.StatusCode)
		}
		n, err := app.Store.NotificationByID(t.Context(), app.LastNotificationID(t))
		if err != nil || n.URL == nil || *n.URL != "/topics" {
			t.Errorf("stored from the form: %+v %v, want url /topics", n.URL, err)
		}
		_, form := admin.Get(t, fmt.Sprintf("/admin/notifications/%d/edit", n.ID))
		if !strings.Contains(form, `name="url" value="/topics"`) {
			t.Error("the edit form does not show the url")
		}
	})
}
