package controllers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"beacon/app/apptest"
)

// A signed-in user's pages and JSON say "private, no-store", so that no
// shared cache keeps one user's feed for another; the stream keeps its
// no-cache, assets their own caching, and visitors' pages are not marked.
func TestSignedInAnswersAreNotCached(t *testing.T) {
	t.Parallel()
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	c := app.Client(t)
	c.Login(t, apptest.AdminEmail, apptest.AdminPassword)
	for _, path := range []string{"/", "/chat", "/admin/notifications", "/admin/groups", "/topics", "/api/notifications", "/api/notifications/poll?after=0&timeout=0", "/no-such-page"} {
		resp, _ := c.Get(t, path)
		if got := resp.Header.Get("Cache-Control"); !strings.Contains(got, "no-store") || path != "/api/notifications/poll?after=0&timeout=0" && got != "private, no-store" {
			t.Errorf("signed-in GET %s: Cache-Control %q, want private, no-store", path, got)
		}
	}
	if resp, _ := app.PostAPI(t, token, map[string]string{"title": "t", "level": "info"}); resp.Header.Get("Cache-Control") != "private, no-store" {
		t.Errorf("API POST with a bearer token: Cache-Control %q", resp.Header.Get("Cache-Control"))
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, app.URL+"/notifications/stream", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("stream: Cache-Control %q, want no-cache", got)
	}
	cancel()
	resp.Body.Close()

	if resp, _ := c.Get(t, "/favicon.ico"); resp.Header.Get("Cache-Control") != "public, max-age=86400" {
		t.Errorf("favicon: Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	visitor := app.Client(t)
	if resp, _ := visitor.Get(t, "/"); strings.Contains(resp.Header.Get("Cache-Control"), "private") {
		t.Errorf("visitor's feed: Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
}
