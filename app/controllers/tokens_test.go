package controllers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"beacon/app/apptest"
)

var newToken = regexp.MustCompile(`<code class="new-token">([^<]+)</code>`)

// Admins create (shown once), list and revoke API tokens on /admin/tokens.
func TestAdminTokensPage(t *testing.T) {
	t.Parallel()
	app, _, _ := apptest.WithAdmin(t, apptest.Options{})
	admin := app.Client(t)
	admin.Login(t, apptest.AdminEmail, apptest.AdminPassword)
	if _, body := admin.Get(t, "/admin/notifications"); !strings.Contains(body, `href="/admin/tokens"`) {
		t.Fatal("the admin pages do not link to /admin/tokens")
	}
	resp, body := admin.Get(t, "/admin/tokens")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, apptest.AdminEmail) {
		t.Fatalf("GET /admin/tokens: %d\n%s", resp.StatusCode, body)
	}

	resp, body = admin.PostForm(t, "/admin/tokens", url.Values{"name": {"deploy bot"}})
	m := newToken.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusCreated || m == nil {
		t.Fatalf("POST /admin/tokens: %d\n%s", resp.StatusCode, body)
	}
	token := m[1]
	if resp, out := app.PostAPI(t, token, map[string]string{"title": "t", "level": "info"}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("the new token: %d %s", resp.StatusCode, out)
	}
	_, body = admin.Get(t, "/admin/tokens")
	if strings.Contains(body, token) || !strings.Contains(body, "deploy bot") {
		t.Fatalf("the list shows the secret again, or not the name:\n%s", body)
	}
	action := regexp.MustCompile(`action="(/admin/tokens/\d+/revoke)"`).FindAllStringSubmatch(body, -1)
	if len(action) != 2 { // WithAdmin's token and the new one
		t.Fatalf("%d revoke forms, want 2", len(action))
	}

	resp, body = admin.PostForm(t, "/admin/tokens", url.Values{"name": {"evil\u202ename"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || newToken.MatchString(body) || !strings.Contains(body, "formatting") {
		t.Fatalf("bad name: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := admin.PostFormRaw(t, action[1][1], url.Values{"_csrf": {"forged"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("revoke without a real CSRF token: %d, want 403", resp.StatusCode)
	}
	if resp, _ := admin.PostForm(t, action[1][1], nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d, want 303", resp.StatusCode)
	}
	if resp, _ := app.PostAPI(t, token, map[string]string{"title": "t", "level": "info"}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the revoked token: %d, want 401", resp.StatusCode)
	}
	if resp, _ := admin.PostForm(t, action[1][1], nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("revoking it again: %d, want 404", resp.StatusCode)
	}
	if resp, _ := admin.PostForm(t, "/admin/tokens/x/revoke", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("revoking a non-id: %d, want 404", resp.StatusCode)
	}

	// Non-admins and visitors are kept out.
	app.CreateUser(t, "Bob", "bob@example.com", "long enough", false)
	bob := app.Client(t)
	bob.Login(t, "bob@example.com", "long enough")
	for _, do := range []func() *http.Response{
		func() *http.Response { r, _ := bob.Get(t, "/admin/tokens"); return r },
		func() *http.Response { r, _ := bob.PostForm(t, "/admin/tokens", nil); return r },
		func() *http.Response { r, _ := bob.PostForm(t, action[0][1], nil); return r },
	} {
		if r := do(); r.StatusCode != http.StatusForbidden {
			t.Errorf("non-admin: %d, want 403", r.StatusCode)
		}
	}
	if r, _ := app.Client(t).Get(t, "/admin/tokens"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("visitor: %d, want 303 to /login", r.StatusCode)
	}
	if r, body := admin.Get(t, "/admin/tokens"); strings.Count(body, `/revoke"`) != 1 {
		t.Errorf("after revoking: %d\n%s", r.StatusCode, body)
	}
}
