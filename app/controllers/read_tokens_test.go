package controllers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"beacon/app/apptest"
)

var newTokenRE = regexp.MustCompile(`<code class="new-token">(bcr_[A-Za-z0-9]+)</code>`)

// createReadToken makes a personal token on /settings as c and returns it.
func createReadToken(t *testing.T, c *apptest.Client, name string) string {
	t.Helper()
	resp, page := c.PostForm(t, "/settings/tokens", url.Values{"name": {name}})
	m := newTokenRE.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusCreated || m == nil {
		t.Fatalf("create token %q: %d, no token shown:\n%.2000s", name, resp.StatusCode, page)
	}
	return m[1]
}

// A person makes a read token on /settings (shown once), and a script
// with it reads their notifications as them, on the list, the long poll
// and the stream, and can do nothing else; revoked, it is 401 at once and
// its open stream ends.
func TestPersonalReadTokens(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app, _, admin := apptest.WithAdmin(t, opts)
		app.CreateUser(t, "Ann", "ann@example.com", "password ann", false)
		app.CreateUser(t, "Bob", "bob@example.com", "password bob", false)
		ann, bob := app.Client(t), app.Client(t)
		ann.Login(t, "ann@example.com", "password ann")
		bob.Login(t, "bob@example.com", "password bob")
		forAnn := app.Notify(t, admin, map[string]string{"title": "for ann", "recipient": "ann@example.com"})
		forBob := app.Notify(t, admin, map[string]string{"title": "for bob", "recipient": "bob@example.com"})

		token := createReadToken(t, ann, "laptop")
		_, page := ann.Get(t, "/settings")
		if strings.Contains(page, token) || !strings.Contains(page, "laptop") || !strings.Contains(page, "never used") {
			t.Errorf("settings after making the token: the secret shown again, or the token not listed")
		}
		if _, page := bob.Get(t, "/settings"); strings.Contains(page, "laptop") {
			t.Errorf("Bob's settings list Ann's token")
		}

		script := app.Client(t) // no session: the token alone
		script.Header.Set("Authorization", "Bearer "+token)
		resp, list := script.Get(t, "/api/notifications?after=0")
		if resp.StatusCode != http.StatusOK || itemOf(list, forAnn) == "" || itemOf(list, forBob) != "" ||
			!strings.Contains(itemOf(list, forAnn), `"read":false`) {
			t.Fatalf("the list with Ann's token: %d %s", resp.StatusCode, list)
		}
		if resp, body := script.Get(t, "/api/notifications/poll?after=0"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "for ann") {
			t.Errorf("the long poll with Ann's token: %d %.300s", resp.StatusCode, body)
		}
		stream := script.OpenStream(t, "")
		if first := stream.NextEvent(t, wait); first.Retry <= 0 {
			t.Fatalf("stream with Ann's token: %+v", first)
		}
		if ev := stream.NextEvent(t, wait); ev.Event != "unread" || ev.Data != `{"unread":1}` {
			t.Errorf("the stream's count as Ann: %+v", ev)
		}
		if _, page := ann.Get(t, "/settings"); !strings.Contains(page, "last used") {
			t.Errorf("settings after the token was used: no last use")
		}

		// It reads, nothing else.
		for _, call := range []struct{ method, path, body string }{
			{http.MethodPost, "/api/notifications", `{"title":"x"}`},
			{http.MethodPost, "/api/notifications/batch", `{"notifications":[{"title":"x"}]}`},
			{http.MethodPatch, "/api/notifications/" + itoa(forAnn), `{"title":"x"}`},
			{http.MethodDelete, "/api/notifications/" + itoa(forAnn), ""},
		} {
			if resp, body := app.CallAPI(t, call.method, call.path, token, call.body); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s with a read token: %d %s, want 403", call.method, call.path, resp.StatusCode, body)
			}
		}
		if resp, _ := script.PostForm(t, "/notifications/"+itoa(forAnn)+"/read", url.Values{}); resp.StatusCode != http.StatusSeeOther ||
			resp.Header.Get("Location") != "/login" {
			t.Errorf("marking read with only a token: %d %s, want the sign-in page", resp.StatusCode, resp.Header.Get("Location"))
		}

		// Bad input: a bad name, no CSRF, someone else's, a missing one.
		if resp, _ := ann.PostForm(t, "/settings/tokens", url.Values{"name": {"bad\u202ename"}}); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("a token with a bad name: %d, want 422", resp.StatusCode)
		}
		if resp, _ := ann.PostFormRaw(t, "/settings/tokens", url.Values{"name": {"x"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("making a token without _csrf: %d, want 403", resp.StatusCode)
		}
		id := regexp.MustCompile(`/settings/tokens/(\d+)/revoke`).FindStringSubmatch(page)
		if id == nil {
			t.Fatalf("no revoke form on Ann's settings")
		}
		if _, page := ann.Get(t, "/settings"); strings.Count(page, "/revoke") != 1 {
			t.Errorf("refused tokens were made: %d listed", strings.Count(page, "/revoke"))
		}
		for who, c := range map[string]*apptest.Client{"bob": bob} {
			if resp, _ := c.PostForm(t, "/settings/tokens/"+id[1]+"/revoke", url.Values{}); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s revoking Ann's token: %d, want 404", who, resp.StatusCode)
			}
		}
		if resp, _ := ann.PostForm(t, "/settings/tokens/999999/revoke", url.Values{}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("revoking a missing token: %d, want 404", resp.StatusCode)
		}
		if resp, _ := script.Get(t, "/api/notifications?after=0"); resp.StatusCode != http.StatusOK {
			t.Fatalf("the token after refused revocations: %d", resp.StatusCode)
		}

		// Revoked: 401 at once, and the stream it opened ends.
		if resp, _ := ann.PostForm(t, "/settings/tokens/"+id[1]+"/revoke", url.Values{}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke: %d", resp.StatusCode)
		}
		if !stream.Ended(10 * time.Second) {
			t.Error("the token's stream goes on after its revocation")
		}
		for _, path := range []string{"/api/notifications?after=0", "/api/notifications/poll?after=0", "/notifications/stream"} {
			if resp, body := script.Get(t, path); resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("GET %s with the revoked token: %d %.200s, want 401", path, resp.StatusCode, body)
			}
		}
		stranger := app.Client(t)
		stranger.Header.Set("Authorization", "Bearer bcr_nosuchtoken")
		if resp, _ := stranger.Get(t, "/api/notifications?after=0"); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("an unknown token: %d, want 401", resp.StatusCode)
		}
	})
}
