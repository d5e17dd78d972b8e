package controllers_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"beacon/app/apptest"
)

func TestFeedShowsNewestFirstAndWhereTheStreamResumes(t *testing.T) {
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	c := app.Client(t)
	if _, body := c.Get(t, "/"); !strings.Contains(body, "No notifications yet") || !strings.Contains(body, `data-last-id="0"`) {
		t.Fatalf("empty feed:\n%s", body)
	}
	app.Notify(t, token, map[string]string{"title": "older"})
	newest := app.Notify(t, token, map[string]string{"title": "newer"})
	resp, body := c.Get(t, "/")
	if resp.StatusCode != http.StatusOK || strings.Index(body, ">newer</h3>") > strings.Index(body, ">older</h3>") || !strings.Contains(body, ">older</h3>") {
		t.Fatalf("not newest first:\n%s", body)
	}
	if want := `data-last-id="` + itoa(newest) + `"`; !strings.Contains(body, want) {
		t.Fatalf("feed lacks %s", want)
	}
}

func TestEveryPageSendsSecurityHeaders(t *testing.T) {
	app, _, _ := apptest.WithAdmin(t, apptest.Options{})
	c := app.Client(t)
	check := func(path string, resp *http.Response, body string) {
		t.Helper()
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
			strings.Contains(csp, "unsafe-inline") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", path, resp.Header)
		}
		if regexp.MustCompile(`<script>|<script [^>]*>[^<]`).MatchString(body) {
			t.Errorf("%s has an inline script", path)
		}
	}
	for _, path := range []string{"/", "/login", "/no-such-page"} {
		resp, body := c.Get(t, path)
		check(path, resp, body)
	}
	// The signed-in pages, an admin's among them, and a page answering a form.
	if _, err := app.Store.CreateGroup(context.Background(), "ops", true); err != nil {
		t.Fatal(err)
	}
	admin := app.Client(t)
	admin.Login(t, apptest.AdminEmail, apptest.AdminPassword)
	for _, path := range []string{"/", "/chat", "/topics", "/admin/notifications", "/admin/notifications/new", "/admin/tokens", "/admin/groups"} {
		resp, body := admin.Get(t, path)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
		check(path, resp, body)
	}
	admin.PostForm(t, "/topics/ops/follow", nil)
	resp, body := admin.PostForm(t, "/admin/groups/ops/delete", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "confirm") {
		t.Fatalf("the delete confirmation: %d", resp.StatusCode)
	}
	check("the delete confirmation", resp, body)
	resp, body = c.Get(t, "/no-such-page")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "<html") || !strings.Contains(body, "404") {
		t.Errorf("404 page: %d\n%s", resp.StatusCode, body)
	}
}

func TestSessionCookieIsHardenedAndRenewedAtLogin(t *testing.T) {
	// X-Forwarded-Proto is believed from a trusted proxy only.
	app, _, _ := apptest.WithAdmin(t, apptest.Options{Env: map[string]string{"TRUST_PROXY": "true"}})
	c := app.Client(t)
	csrf := c.CSRF(t)
	req, _ := http.NewRequest(http.MethodPost, app.URL+"/login",
		strings.NewReader("email=ada%40example.com&password=correct+horse&_csrf="+csrf))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "beacon_session" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || !session.Secure || session.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v", session)
	}

	// A forged or tampered cookie is no session.
	forged := app.Client(t)
	tampered := *session
	tampered.Value = strings.Replace(session.Value, ".", "x.", 1)
	forged.Jar.SetCookies(req.URL, []*http.Cookie{{Name: tampered.Name, Value: tampered.Value}})
	if resp, _ := forged.Get(t, "/admin/notifications"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("tampered cookie let in: %d", resp.StatusCode)
	}
}

// When the database is down, /healthz says 503 (even to a signed-in
// client) and the stream still answers 200 with a retry, because any other
// status would make browsers stop reconnecting for good.
func TestDatabaseDownHealthzAndStream(t *testing.T) {
	app, _, _ := apptest.WithAdmin(t, apptest.Options{})
	c := app.Client(t)
	c.Login(t, "ada@example.com", "correct horse")
	if resp, body := c.Get(t, "/healthz"); resp.StatusCode != 200 || strings.TrimSpace(body) != `{"status":"ok"}` {
		t.Fatalf("healthy: %d %s", resp.StatusCode, body)
	}
	app.Store.Close()
	if resp, _ := c.Get(t, "/healthz"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("database closed: %d, want 503", resp.StatusCode)
	}
	resp, body := c.Get(t, "/notifications/stream")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" || !strings.HasPrefix(body, "retry: ") {
		t.Fatalf("stream with the database down: %d %v %q", resp.StatusCode, resp.Header, body)
	}
}

func TestAdminListCountsLiveDeliveries(t *testing.T) {
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	s1, s2 := open(t, app.Client(t), ""), open(t, app.Client(t), "")
	app.Notify(t, token, map[string]string{"title": "counted"})
	s1.NextEvent(t, wait)
	s2.NextEvent(t, wait)
	admin := app.Client(t)
	admin.Login(t, "ada@example.com", "correct horse")
	waitFor(t, func() bool {
		_, body := admin.Get(t, "/admin/notifications")
		return strings.Contains(body, `<td class="deliveries">2</td>`)
	})
}

// /metrics answers only its bearer token, compared in constant time; with
// no METRICS_TOKEN it does not exist.
func TestMetricsNeedTheirToken(t *testing.T) {
	off := apptest.New(t, apptest.Options{})
	if resp, _ := off.Client(t).Get(t, "/metrics"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("/metrics without METRICS_TOKEN: %d, want 404", resp.StatusCode)
	}

	app := apptest.New(t, apptest.Options{Env: map[string]string{"METRICS_TOKEN": "s3cret-metrics"}})
	open(t, app.Client(t), "")
	for _, tc := range []struct {
		name, authorization string
		status              int
	}{
		{"no header", "", http.StatusUnauthorized},
		{"wrong token", "Bearer s3cret-metricz", http.StatusUnauthorized},
		{"a prefix of it", "Bearer s3cret", http.StatusUnauthorized},
		{"not bearer", "Basic czNjcmV0LW1ldHJpY3M=", http.StatusUnauthorized},
		{"the token", "Bearer s3cret-metrics", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, app.URL+"/metrics", nil)
			if tc.authorization != "" {
				req.Header.Set("Authorization", tc.authorization)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d\n%.300s", resp.StatusCode, tc.status, b)
			}
			if tc.status == http.StatusOK && !strings.Contains(string(b), "beacon_notification_subscribers 1") {
				t.Fatalf("metrics lack the stream:\n%.500s", b)
			}
			if tc.status == http.StatusUnauthorized && (strings.Contains(string(b), "beacon_") || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer")) {
				t.Fatalf("401 with metrics in it or no WWW-Authenticate: Bearer: %q %.300s", resp.Header.Get("WWW-Authenticate"), b)
			}
		})
	}
}

func TestAssetsAreVersionedCachedAndCompressed(t *testing.T) {
	app, _, _ := apptest.WithAdmin(t, apptest.Options{})
	c := app.Client(t)
	_, page := c.Get(t, "/")
	m := regexp.MustCompile(`href="(/assets/app\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("page links no versioned stylesheet:\n%s", page)
	}
	req, _ := http.NewRequest(http.MethodGet, app.URL+m[1], nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") ||
		resp.Header.Get("Content-Encoding") != "gzip" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("versioned asset: %d %v", resp.StatusCode, resp.Header)
	}
	// Unversioned: revalidated by ETag.
	resp, _ = c.Get(t, "/assets/app.css")
	etag := resp.Header.Get("ETag")
	if resp.Header.Get("Cache-Control") != "no-cache" || etag == "" {
		t.Fatalf("unversioned asset: %v", resp.Header)
	}
	req, _ = http.NewRequest(http.MethodGet, app.URL+"/assets/app.css", nil)
	req.Header.Set("If-None-Match", etag)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation: %v %v", resp, err)
	}
	if resp, _ := c.Get(t, "/assets/nope.js"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown asset: %d", resp.StatusCode)
	}
	// The stream is never compressed.
	req, _ = http.NewRequest(http.MethodGet, app.URL+"/notifications/stream", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err = http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("stream compressed: %v", resp.Header)
	}
}

// The sessions table keeps hashes of tokens, not the tokens the cookies carry.
func TestSessionTokensAreStoredHashed(t *testing.T) {
	app, _, _ := apptest.WithAdmin(t, apptest.Options{})
	c := app.Client(t)
	c.Login(t, "ada@example.com", "correct horse")
	var cookie string
	for _, ck := range c.Jar.Cookies(mustURL(t, app.URL)) {
		if ck.Name == "beacon_session" {
			cookie = ck.Value
		}
	}
	token, _, _ := strings.Cut(cookie, ".")
	var stored []string
	rows, err := app.Store.SQL().Query("SELECT token FROM sessions")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		rows.Scan(&s)
		stored = append(stored, s)
	}
	if token == "" || len(stored) != 1 || stored[0] == token {
		t.Fatalf("cookie token %q, stored %q", token, stored)
	}
}

// Pages and the API depend on the cookie, and say so once.
func TestVaryCookieOnce(t *testing.T) {
	app := apptest.New(t, apptest.Options{})
	c := app.Client(t)
	for _, path := range []string{"/", "/login", "/api/notifications"} {
		resp, _ := c.Get(t, path)
		n := 0
		for _, v := range resp.Header.Values("Vary") {
			for _, f := range strings.Split(v, ",") {
				if strings.EqualFold(strings.TrimSpace(f), "Cookie") {
					n++
				}
			}
		}
		if n != 1 {
			t.Errorf("%s: Vary %q names Cookie %d times, want once", path, resp.Header.Values("Vary"), n)
		}
	}
}
