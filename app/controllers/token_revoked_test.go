package controllers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"beacon/app/apptest"
	"beacon/app/auth"
)

// A revoked token is refused (401) at once, by every instance on the
// database: each request looks the token up, with no cache.
func TestRevokedTokenIsRefusedEverywhere(t *testing.T) {
	t.Parallel()
	db := t.TempDir() + "/beacon.db"
	one, _, token := apptest.WithAdmin(t, apptest.Options{DatabaseURL: db})
	two := apptest.New(t, apptest.Options{DatabaseURL: db})
	for _, app := range []*apptest.App{one, two} {
		if resp, body := app.PostAPI(t, token, map[string]string{"title": "t", "level": "info"}); resp.StatusCode != http.StatusCreated {
			t.Fatalf("before revoking: %d %s", resp.StatusCode, body)
		}
	}
	if _, err := one.Store.DeleteAPITokenByHash(t.Context(), auth.HashAPIToken(token)); err != nil {
		t.Fatal(err)
	}
	for _, app := range []*apptest.App{two, one} {
		resp, _ := app.PostAPI(t, token, map[string]string{"title": "t", "level": "info"})
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("after revoking: %d, want 401 with WWW-Authenticate", resp.StatusCode)
		}
	}
}

// An admin's API token reads as the admin too; revoked at /admin/tokens,
// the stream it opened ends at once.
func TestRevokingAnAdminTokenEndsItsStream(t *testing.T) {
	t.Parallel()
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	admin := app.Client(t)
	admin.Login(t, apptest.AdminEmail, apptest.AdminPassword)
	script := app.Client(t)
	script.Header.Set("Authorization", "Bearer "+token)
	stream := script.OpenStream(t, "")
	if ev := stream.NextEvent(t, wait); ev.Retry <= 0 {
		t.Fatalf("first: %+v", ev)
	}
	if ev := stream.NextEvent(t, wait); ev.Event != "unread" {
		t.Fatalf("the admin token's stream carries no count: %+v", ev)
	}
	_, page := admin.Get(t, "/admin/tokens")
	id := regexp.MustCompile(`/admin/tokens/(\d+)/revoke`).FindStringSubmatch(page)
	if id == nil {
		t.Fatal("no token to revoke on /admin/tokens")
	}
	if resp, _ := admin.PostForm(t, "/admin/tokens/"+id[1]+"/revoke", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if !stream.Ended(10 * time.Second) {
		t.Error("the stream goes on after its token was revoked")
	}
}
