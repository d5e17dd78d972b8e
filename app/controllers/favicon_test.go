package controllers_test

import (
	"net/http"
	"testing"

	"beacon/app/apptest"
)

// Browsers fetch /favicon.ico by themselves; a 404 there is a console
// error on every page (found by the browser tests in app/e2e).
func TestFaviconIsNoContent(t *testing.T) {
	app := apptest.New(t, apptest.Options{})
	resp, body := app.Client(t).Get(t, "/favicon.ico")
	if resp.StatusCode != http.StatusNoContent || body != "" {
		t.Fatalf("GET /favicon.ico: %d %q, want 204 and no body", resp.StatusCode, body)
	}
}
