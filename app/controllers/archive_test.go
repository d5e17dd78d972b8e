package controllers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"beacon/app/apptest"
)

// A signed-in user archives a notification with a plain form: it leaves
// their feed for /?view=archived, the list API says "archived", and
// Unarchive brings it back. Someone else's, a missing one and a visitor
// get no further than 404 or the sign-in page.
func TestArchivingWithAPlainForm(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app, _, token := apptest.WithAdmin(t, opts)
		app.CreateUser(t, "Ann", "ann@example.com", "password ann", false)
		app.CreateUser(t, "Bob", "bob@example.com", "password bob", false)
		ann := app.Client(t)
		ann.Login(t, "ann@example.com", "password ann")
		kept := app.Notify(t, token, map[string]string{"title": "kept"})
		gone := app.Notify(t, token, map[string]string{"title": "archived one"})
		bobs := app.Notify(t, token, map[string]string{"title": "for bob", "recipient": "bob@example.com"})

		resp, body := ann.PostForm(t, "/notifications/"+itoa(gone)+"/archive", url.Values{})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Fatalf("archive: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
		}
		if titles, _, _ := feedTitles(t, ann, "/"); strings.Join(titles, ",") != "kept" {
			t.Errorf("Ann's feed after archiving: %q", titles)
		}
		titles, _, page := feedTitles(t, ann, "/?view=archived")
		if strings.Join(titles, ",") != "archived one" || !strings.Contains(page, `/notifications/`+itoa(gone)+`/unarchive`) {
			t.Errorf("Ann's archive: %q", titles)
		}
		_, list := ann.Get(t, "/api/notifications?after=0")
		if !strings.Contains(itemOf(list, gone), `"archived":true`) || !strings.Contains(itemOf(list, kept), `"archived":false`) {
			t.Errorf("Ann's list: %s", list)
		}
		if visitor, _, _ := feedTitles(t, app.Client(t), "/"); !strings.Contains(strings.Join(visitor, ","), "archived one") {
			t.Errorf("a visitor's feed lost Ann's archived one: %q", visitor)
		}

		for path, want := range map[string]int{
			"/notifications/" + itoa(bobs) + "/archive":   http.StatusNotFound,
			"/notifications/999999/archive":               http.StatusNotFound,
			"/notifications/abc/unarchive":                http.StatusNotFound,
			"/notifications/" + itoa(bobs) + "/unarchive": http.StatusNotFound,
		} {
			if resp, body := ann.PostForm(t, path, url.Values{}); resp.StatusCode != want {
				t.Errorf("POST %s: %d, want %d: %.200s", path, resp.StatusCode, want, body)
			}
		}
		if resp, _ := app.Client(t).PostForm(t, "/notifications/"+itoa(kept)+"/archive", url.Values{}); resp.StatusCode < 300 || resp.StatusCode == http.StatusOK {
			t.Errorf("a visitor archiving: %d", resp.StatusCode)
		}

		resp, _ = ann.PostForm(t, "/notifications/"+itoa(gone)+"/unarchive", url.Values{})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/?view=archived" {
			t.Fatalf("unarchive: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if titles, _, _ := feedTitles(t, ann, "/"); strings.Join(titles, ",") != "archived one,kept" {
			t.Errorf("Ann's feed after unarchiving: %q", titles)
		}
	})
}
