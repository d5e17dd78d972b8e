package controllers_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"beacon/app/apptest"
	"beacon/app/models"
	"beacon/app/store"
	"beacon/assets"
)

// The service worker is served from the root, so that its scope is the
// whole site, and revalidated every time, so that a new one takes over
// at once (INTERFACE.md, "Web Push", /sw.js).
func TestTheServiceWorkerIsServedFromTheRoot(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Client(t)
	resp, body := c.Get(t, "/sw.js")
	sw, _ := assets.Lookup("sw.js")
	if resp.StatusCode != http.StatusOK || body != string(sw.Body) || !strings.Contains(body, `addEventListener("push"`) {
		t.Fatalf("GET /sw.js: %d, %d bytes, want 200 and the worker", resp.StatusCode, len(body))
	}
	for k, want := range map[string]string{
		"Content-Type":  "text/javascript; charset=utf-8",
		"Cache-Control": "no-cache",
		"ETag":          `"` + sw.Hash + `"`,
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if resp.Header.Get("Set-Cookie") != "" {
		t.Error("/sw.js starts a session")
	}
	req, _ := http.NewRequest(http.MethodGet, c.URL("/sw.js"), nil)
	req.Header.Set("If-None-Match", `"`+sw.Hash+`"`)
	again, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	again.Body.Close()
	if again.StatusCode != http.StatusNotModified {
		t.Errorf("revalidating an unchanged worker: %d, want 304", again.StatusCode)
	}
}

// openPath is where a click on notification id's desktop notification leads.
func openPath(id int64) string { return fmt.Sprintf("/notifications/%d/open", id) }

// openClick follows a click as the worker's new window does, with the
// Sec-Fetch-Site the browser sends ("" for none), and returns the status
// and where it redirects.
func openClick(t *testing.T, c *apptest.Client, path, site string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.URL(path), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	if site != "" {
		req.Header.Set("Sec-Fetch-Site", site)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

// A click on a desktop notification (GET /notifications/:id/open) marks it
// read for the signed-in user and leads to its url, else to the feed; what
// they may not see is 404 whether it exists or not; a visitor is sent to
// sign in; a navigation another site started marks nothing.
func TestOpeningANotificationMarksItReadAndFollowsItsURL(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app, _, token := apptest.WithAdmin(t, opts)
		bea := app.CreateUser(t, "Bea", "bea@example.com", "long enough", false)
		app.CreateUser(t, "Cy", "cy@example.com", "long enough", false)
		linked := app.Notify(t, token, map[string]string{"title": "incident", "url": "https://status.example.com/i/7"})
		local := app.Notify(t, token, map[string]string{"title": "chat", "url": "/chat", "recipient": "bea@example.com"})
		plain := app.Notify(t, token, map[string]string{"title": "no link"})
		forCy := app.Notify(t, token, map[string]string{"title": "for Cy", "url": "https://cy.example.com", "recipient": "cy@example.com"})
		// Stored before urls were checked (or by a bug): never a redirect there.
		bad := "//evil.example/x"
		unchecked := models.Notification{Title: "unchecked", Level: "info", URL: &bad}
		if _, err := app.Store.CreateOrReplaceNotification(t.Context(), &unchecked); err != nil {
			t.Fatal(err)
		}
		withdrawn := app.Notify(t, token, map[string]string{"title": "gone"})
		if resp, body := apiCall(t, app, http.MethodDelete, fmt.Sprintf("/api/notifications/%d", withdrawn), token, "", ""); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("withdraw: %d %s", resp.StatusCode, body)
		}
		read := func() map[int64]bool {
			t.Helper()
			m, err := app.Store.ReadNotificationIDs(t.Context(), bea.ID, []int64{linked, local, plain, unchecked.ID, forCy})
			if err != nil {
				t.Fatal(err)
			}
			return m
		}

		if status, to := openClick(t, app.Client(t), openPath(linked), "none"); status != http.StatusSeeOther || to != "/login" {
			t.Errorf("a visitor: %d to %q, want 303 to /login", status, to)
		}
		c := app.Client(t)
		c.Login(t, "bea@example.com", "long enough")
		// Another site's link or form marks nothing and says nothing.
		for _, site := range []string{"cross-site", "same-site"} {
			if status, to := openClick(t, c, openPath(linked), site); status != http.StatusSeeOther || to != "/" {
				t.Errorf("Sec-Fetch-Site %s: %d to %q, want 303 to /", site, status, to)
			}
		}
		if r := read(); len(r) != 0 {
			t.Fatalf("marked read by another site's navigation: %v", r)
		}

		for _, tc := range []struct {
			id   int64
			site string
			to   string
		}{
			{linked, "none", "https://status.example.com/i/7"}, // the worker's new window
			{local, "same-origin", "/chat"},                    // a page's
			{plain, "", "/"},                                   // a browser that sends no Sec-Fetch-Site
			{unchecked.ID, "none", "/"},
		} {
			if status, to := openClick(t, c, openPath(tc.id), tc.site); status != http.StatusSeeOther || to != tc.to {
				t.Errorf("open %d: %d to %q, want 303 to %q", tc.id, status, to, tc.to)
			}
			if !read()[tc.id] {
				t.Errorf("notification %d not read after opening it", tc.id)
			}
		}
		if status, to := openClick(t, c, openPath(linked), "none"); status != http.StatusSeeOther || to != "https://status.example.com/i/7" {
			t.Errorf("opening a read one again: %d to %q", status, to)
		}
		if _, unread, _ := feedState(t, c); unread != 0 {
			t.Errorf("unread after opening all four: %d, want 0", unread)
		}

		// Cy's, a withdrawn one, one that never was, and no id at all
		// answer alike.
		// (Each page masks its CSRF token anew.)
		page := func(path string) (int, string) {
			resp, body := c.Get(t, path)
			return resp.StatusCode, strings.ReplaceAll(body, apptest.FormCSRF(body), "")
		}
		_, missing := page(openPath(forCy + 1000))
		for _, path := range []string{openPath(forCy), openPath(withdrawn), "/notifications/abc/open", "/notifications/0/open"} {
			status, body := page(path)
			if status != http.StatusNotFound || body != missing || strings.Contains(body, "cy.example.com") {
				t.Errorf("%s: %d, want the 404 of a missing one\n%s", path, status, body)
			}
		}
		if read()[forCy] {
			t.Error("Cy's notification counted as read for Bea")
		}
		if n, err := app.Store.UnreadCount(t.Context(), bea.ID, store.NoLimit); err != nil || n != 0 {
			t.Errorf("Bea's unread count: %d %v, want 0", n, err)
		}
	})
}

// The push controls are the script's to show: without it, /settings says
// why there is no button, and the feed offers nothing.
func TestPushControlsWaitForTheScript(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.CreateUser(t, "Bea", "bea@example.com", "long enough", false)
	if _, page := app.Client(t).Get(t, "/"); strings.Contains(page, "push-offer") || strings.Contains(page, "push.js") {
		t.Error("a visitor's feed offers push notifications")
	}
	c := app.Client(t)
	c.Login(t, "bea@example.com", "long enough")
	_, page := c.Get(t, "/settings")
	for _, want := range []string{`<button type="button" id="push-toggle" hidden>`, `<noscript><p class="hint">Turning push notifications on for this browser needs JavaScript.</p></noscript>`,
		`id="push-status" role="status" aria-live="polite"`, `/assets/push.js?v=`} {
		if !strings.Contains(page, want) {
			t.Errorf("/settings lacks %s", want)
		}
	}
	if _, page := c.Get(t, "/"); !strings.Contains(page, `id="push-offer" hidden>`) || !strings.Contains(page, `/assets/push.js?v=`) {
		t.Error("a signed-in user's feed has no hidden push offer and its script")
	}
}
