package controllers_test

import (
	"net/http"
	"testing"

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
