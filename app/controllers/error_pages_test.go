package controllers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"beacon/app/apptest"
)

// inLayout reports whether body is a whole page in Beacon's layout: its
// header, stylesheet and script, and a main region.
func inLayout(body string) bool {
	for _, s := range []string{`<header class="site-header">`, `<link rel="stylesheet" href="/assets/app.css?v=`, `<script src="/assets/app.js?v=`, `<main id="main"`} {
		if !strings.Contains(body, s) {
			return false
		}
	}
	return true
}

// Every failure a person can meet in a browser is a page in the layout,
// saying what happened: 403, 404, 422 and 429 here, 500 in
// errors_internal_test.go.
func TestErrorPagesRenderInTheLayout(t *testing.T) {
	t.Parallel()
	app, _, _ := apptest.WithAdmin(t, apptest.Options{})
	app.CreateUser(t, "Bea", "bea@example.com", "long enough", false)
	bea := app.Client(t)
	bea.Login(t, "bea@example.com", "long enough")
	admin := app.Client(t)
	admin.Login(t, "ada@example.com", "correct horse")
	visitor := app.Client(t)
	throttled := app.Client(t)
	for range 5 {
		throttled.PostForm(t, "/login", url.Values{"email": {"bea@example.com"}, "password": {"wrong"}})
	}

	for _, c := range []struct {
		name   string
		do     func() (*http.Response, string)
		status int
		shows  string
	}{
		{"not an admin", func() (*http.Response, string) { return bea.Get(t, "/admin/notifications/new") }, http.StatusForbidden, "Only admins may do that."},
		{"no CSRF token", func() (*http.Response, string) {
			return bea.PostFormRaw(t, "/notifications/read_all", url.Values{})
		}, http.StatusForbidden, "403 Forbidden"},
		{"no such page", func() (*http.Response, string) { return visitor.Get(t, "/no/such/page") }, http.StatusNotFound, "There is nothing at this address."},
		{"invalid form", func() (*http.Response, string) {
			return admin.PostForm(t, "/admin/notifications", url.Values{"level": {"info"}})
		}, http.StatusUnprocessableEntity, `aria-describedby="title-error"`},
		{"throttled sign-in", func() (*http.Response, string) {
			return throttled.PostForm(t, "/login", url.Values{"email": {"bea@example.com"}, "password": {"long enough"}})
		}, http.StatusTooManyRequests, "Too many failed sign-in attempts."},
	} {
		resp, body := c.do()
		if resp.StatusCode != c.status || !inLayout(body) || !strings.Contains(body, c.shows) {
			t.Errorf("%s: status %d (want %d), in the layout: %v, shows %q: %v\n%.600s",
				c.name, resp.StatusCode, c.status, inLayout(body), c.shows, strings.Contains(body, c.shows), body)
		}
	}
}
