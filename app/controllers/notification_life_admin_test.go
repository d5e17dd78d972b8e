package controllers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"beacon/app/apptest"
)

func TestAdminSchedulesEditsAndWithdraws(t *testing.T) {
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	admin := app.Client(t)
	admin.Login(t, apptest.AdminEmail, apptest.AdminPassword)

	resp, body := admin.Get(t, "/admin/notifications/new")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="key"`) ||
		!strings.Contains(body, `type="datetime-local" id="deliver_at" name="deliver_at"`) || !strings.Contains(body, "in UTC") {
		t.Fatalf("new form lacks key and deliver_at (in UTC):\n%s", body)
	}

	// The form's datetime-local value carries no offset: it is UTC.
	due := time.Now().UTC().Add(3 * time.Hour).Truncate(time.Minute)
	resp, body = admin.PostForm(t, "/admin/notifications", url.Values{"title": {"Release party"}, "level": {"info"},
		"key": {"party"}, "deliver_at": {due.Format("2006-01-02T15:04")}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("post scheduled: %d\n%s", resp.StatusCode, body)
	}
	scheduled := app.LastNotificationID(t)
	if n := stored(t, app, scheduled); !n.Scheduled || !n.DeliverAt.Equal(due) || deref(n.Key) != "party" {
		t.Fatalf("stored %s, want scheduled for %v with key party", describe(snapshot(t, app)), due)
	}
	live := app.Notify(t, token, map[string]string{"title": "Coffee is ready"})

	for _, tc := range []struct{ name, field, value string }{
		{"bad key", "key", "two words"},
		{"bad deliver_at", "deliver_at", "next week"},
		{"deliver_at too far", "deliver_at", time.Now().UTC().AddDate(1, 0, 3).Format("2006-01-02T15:04")},
	} {
		before := snapshot(t, app)
		resp, body := admin.PostForm(t, "/admin/notifications", url.Values{"title": {"x"}, "level": {"info"}, tc.field: {tc.value}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="`+tc.field+`-error"`) ||
			!strings.Contains(body, `value="`+tc.value+`"`) {
			t.Errorf("%s: %d, want 422 with the form, its value and the error:\n%s", tc.name, resp.StatusCode, body)
		}
		unchanged(t, app, before)
	}

	resp, body = admin.Get(t, "/admin/notifications")
	row := adminRow(t, body, scheduled)
	if resp.StatusCode != http.StatusOK || !strings.Contains(row, "scheduled for") || !strings.Contains(row, due.Format("2 Jan 2006 15:04 UTC")) ||
		!strings.Contains(row, ">Cancel") || !strings.Contains(row, `href="/admin/notifications/`+itoa(scheduled)+`/edit"`) {
		t.Fatalf("list row of the scheduled one:\n%s", row)
	}
	if row := adminRow(t, body, live); !strings.Contains(row, "live") || !strings.Contains(row, ">Withdraw") {
		t.Fatalf("list row of a live one:\n%s", row)
	}

	// Edit: the form shows it as it stands, with its token.
	editPath := "/admin/notifications/" + itoa(live) + "/edit"
	resp, body = admin.Get(t, editPath)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `value="Coffee is ready"`) || !strings.Contains(body, `name="_csrf"`) ||
		!strings.Contains(body, `action="/admin/notifications/`+itoa(live)+`"`) || strings.Contains(body, `name="deliver_at"`) {
		t.Fatalf("edit form of a live one: %d\n%s", resp.StatusCode, body)
	}
	if _, body := admin.Get(t, "/admin/notifications/"+itoa(scheduled)+"/edit"); !strings.Contains(body, `value="`+due.Format("2006-01-02T15:04:05")+`"`) {
		t.Fatalf("edit form of a scheduled one lacks its time:\n%s", body)
	}

	before := snapshot(t, app)
	save := "/admin/notifications/" + itoa(live)
	resp, body = admin.PostForm(t, save, url.Values{"title": {""}, "body": {"b"}, "level": {"info"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "can&#39;t be blank") || !strings.Contains(body, `action="`+save+`"`) {
		t.Fatalf("invalid edit: %d, want 422 with the form:\n%s", resp.StatusCode, body)
	}
	if resp, _ := admin.PostFormRaw(t, save, url.Values{"title": {"forged"}, "level": {"info"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("edit without CSRF token: %d, want 403", resp.StatusCode)
	}
	unchanged(t, app, before)

	resp, _ = admin.PostForm(t, save, url.Values{"title": {"Coffee is gone"}, "body": {"sorry"}, "level": {"warning"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/notifications" {
		t.Fatalf("edit: %d %q, want 303 to the list", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := stored(t, app, live); n.Title != "Coffee is gone" || n.Body != "sorry" || n.Level != "warning" || n.Position <= before[live].Position {
		t.Fatalf("after the edit: %s", describe(snapshot(t, app)))
	}
	_, body = admin.Get(t, "/admin/notifications")
	if row := adminRow(t, body, live); !strings.Contains(row, "edited") || !strings.Contains(row, `class="ago"`) {
		t.Fatalf("list row of the edited one:\n%s", row)
	}
	// Rescheduling the waiting one to a past time delivers it now.
	resp, _ = admin.PostForm(t, "/admin/notifications/"+itoa(scheduled), url.Values{"title": {"Release party now"}, "level": {"success"},
		"deliver_at": {"2001-01-01T00:00"}})
	if n := stored(t, app, scheduled); resp.StatusCode != http.StatusSeeOther || n.Scheduled || n.Title != "Release party now" {
		t.Fatalf("reschedule into the past: %d, %s", resp.StatusCode, describe(snapshot(t, app)))
	}

	// Withdraw: CSRF first, then for real; the list keeps it as withdrawn.
	withdraw := "/admin/notifications/" + itoa(live) + "/withdraw"
	before = snapshot(t, app)
	if resp, _ := admin.PostFormRaw(t, withdraw, url.Values{"_csrf": {"forged"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("withdraw with a forged token: %d, want 403", resp.StatusCode)
	}
	unchanged(t, app, before)
	resp, _ = admin.PostForm(t, withdraw, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/notifications" || !stored(t, app, live).Withdrawn() {
		t.Fatalf("withdraw: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body = admin.Get(t, "/admin/notifications")
	if row := adminRow(t, body, live); !strings.Contains(row, "withdrawn") || strings.Contains(row, "/edit") || strings.Contains(row, "Withdraw") {
		t.Fatalf("list row of the withdrawn one:\n%s", row)
	}
	// Changed before anyone saw it: delivered as it is now, not "edited".
	if row := adminRow(t, body, scheduled); !strings.Contains(row, `"state">live<`) {
		t.Fatalf("list row of the one delivered by its edit:\n%s", row)
	}

	// Gone, or never there: 404 on every route, nothing changes.
	before = snapshot(t, app)
	for _, path := range []string{itoa(live), "99999", "abc"} {
		for _, r := range []struct{ method, path string }{
			{"GET", "/admin/notifications/" + path + "/edit"},
			{"POST", "/admin/notifications/" + path},
			{"POST", "/admin/notifications/" + path + "/withdraw"},
		} {
			var resp *http.Response
			if r.method == "GET" {
				resp, _ = admin.Get(t, r.path)
			} else {
				resp, _ = admin.PostForm(t, r.path, url.Values{"title": {"x"}, "level": {"info"}})
			}
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s: %d, want 404", r.method, r.path, resp.StatusCode)
			}
		}
	}
	unchanged(t, app, before)
}

func TestAdminLifeRoutesNeedAnAdmin(t *testing.T) {
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	app.CreateUser(t, "Bob", "bob@example.com", "password bob", false)
	id := app.Notify(t, token, map[string]string{"title": "hands off"})
	bob := app.Client(t)
	bob.Login(t, "bob@example.com", "password bob")
	visitor := app.Client(t)

	before := snapshot(t, app)
	for _, r := range []struct{ method, path string }{
		{"GET", "/admin/notifications/" + itoa(id) + "/edit"},
		{"POST", "/admin/notifications/" + itoa(id)},
		{"POST", "/admin/notifications/" + itoa(id) + "/withdraw"},
	} {
		for _, who := range []struct {
			name   string
			c      *apptest.Client
			status int
		}{{"visitor", visitor, http.StatusSeeOther}, {"non-admin", bob, http.StatusForbidden}} {
			var resp *http.Response
			if r.method == "GET" {
				resp, _ = who.c.Get(t, r.path)
			} else {
				resp, _ = who.c.PostForm(t, r.path, url.Values{"title": {"mine now"}, "level": {"info"}})
			}
			if resp.StatusCode != who.status {
				t.Errorf("%s %s %s: %d, want %d", who.name, r.method, r.path, resp.StatusCode, who.status)
			}
		}
	}
	unchanged(t, app, before)
}

// adminRow is the admin list's row for notification id.
func adminRow(t *testing.T, page string, id int64) string {
	t.Helper()
	start := strings.Index(page, `<tr id="admin-notification-`+itoa(id)+`"`)
	if start < 0 {
		t.Fatalf("the list has no row for %d:\n%s", id, page)
	}
	end := strings.Index(page[start:], "</tr>")
	return page[start : start+end]
}
