package controllers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"beacon/app/apptest"
)

// The attack from issue 14: a _csrf cookie and a _csrf field with the same
// attacker-chosen value. The token lives in the server-side session, so a
// planted cookie is worthless, on the sign-in form and behind it.
func TestPlantedCSRFCookieIsRefused(t *testing.T) {
	t.Parallel()
	app, _, _ := apptest.WithAdmin(t, apptest.Options{})
	const planted = "attacker-chosen-value"

	visitor := app.Client(t)
	visitor.Get(t, "/login")
	visitor.SetCookie("_csrf", planted)
	resp, _ := visitor.PostFormRaw(t, "/login", url.Values{"_csrf": {planted}, "email": {apptest.AdminEmail}, "password": {apptest.AdminPassword}})
	if resp.StatusCode != http.StatusForbidden || signedIn(t, visitor) {
		t.Fatalf("login with a planted cookie: %d, want 403", resp.StatusCode)
	}

	admin := app.Client(t)
	admin.Login(t, apptest.AdminEmail, apptest.AdminPassword)
	admin.SetCookie("_csrf", planted)
	resp, _ = admin.PostFormRaw(t, "/admin/notifications", url.Values{"_csrf": {planted}, "title": {"forged"}, "level": {"info"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("admin post with a planted cookie: %d, want 403", resp.StatusCode)
	}
	if n := countNotifications(t, app); n != 0 {
		t.Fatalf("%d notifications stored by a forged form", n)
	}
	// Another session's real token is no better than a made-up one.
	resp, _ = admin.PostFormRaw(t, "/admin/notifications", url.Values{"_csrf": {visitor.CSRF(t)}, "title": {"forged"}, "level": {"info"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("admin post with another session's token: %d, want 403", resp.StatusCode)
	}
}

// A visitor with no cookie gets a working form on /login and /signup from
// the page alone (no script, and only our own cookie), and each render
// masks the token anew.
func TestFormsWorkWithoutScriptAndTokensAreMasked(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.CreateUser(t, "Bea", "bea@example.com", "long enough", false)
	for _, path := range []string{"/login", "/signup"} {
		c := app.Client(t)
		resp, first := c.Get(t, path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		for _, ck := range resp.Cookies() {
			if ck.Name != sessionCookie {
				t.Errorf("GET %s set cookie %q; only the session cookie is ours", path, ck.Name)
			}
		}
		_, second := c.Get(t, path)
		t1, t2 := apptest.FormCSRF(first), apptest.FormCSRF(second)
		if t1 == "" || t1 == t2 {
			t.Fatalf("GET %s twice: tokens %q and %q, want two different masks", path, t1, t2)
		}
		// Both masks of the one secret are good.
		resp, body := c.PostFormRaw(t, "/login", url.Values{"_csrf": {t1}, "email": {"bea@example.com"}, "password": {"wrong password"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("login with the token from %s: %d, want 422\n%s", path, resp.StatusCode, body)
		}
		resp, _ = c.PostFormRaw(t, "/login", url.Values{"_csrf": {t2}, "email": {"bea@example.com"}, "password": {"long enough"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("login with the second token from %s: %d, want 303", path, resp.StatusCode)
		}
	}
}

// A visitor reading the feed gets no session: only the forms that need a
// token create one.
func TestVisitorFeedSetsNoCookie(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Client(t)
	for _, path := range []string{"/", "/chat"} {
		resp, _ := c.Get(t, path)
		if cks := resp.Cookies(); len(cks) > 0 {
			t.Fatalf("GET %s as a visitor set %v", path, cks)
		}
	}
}

// The token is new after sign-in and after sign-out: one shown before is
// refused after.
func TestCSRFTokenChangesAtSignInAndOut(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.CreateUser(t, "Bea", "bea@example.com", "long enough", false)
	c := app.Client(t)
	before := c.CSRF(t)
	c.Login(t, "bea@example.com", "long enough")
	resp, _ := c.PostFormRaw(t, "/notifications/read_all", url.Values{"_csrf": {before}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("the visitor's token after sign-in: %d, want 403", resp.StatusCode)
	}
	signedIn := c.CSRF(t)
	if resp, _ := c.PostFormRaw(t, "/notifications/read_all", url.Values{"_csrf": {signedIn}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the signed-in page's token: %d, want 303", resp.StatusCode)
	}
	c.Logout(t)
	c.Get(t, "/login") // a new visitor session
	resp, _ = c.PostFormRaw(t, "/login", url.Values{"_csrf": {signedIn}, "email": {"bea@example.com"}, "password": {"long enough"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("the signed-in token after sign-out: %d, want 403", resp.StatusCode)
	}
}

// The feed's script sends the token in X-CSRF-Token.
func TestCSRFHeader(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.CreateUser(t, "Bea", "bea@example.com", "long enough", false)
	c := app.Client(t)
	c.Login(t, "bea@example.com", "long enough")
	for _, tc := range []struct {
		token string
		want  int
	}{{"", http.StatusForbidden}, {"forged", http.StatusForbidden}, {c.CSRF(t), http.StatusOK}} {
		req, _ := http.NewRequest(http.MethodPost, app.URL+"/notifications/read_all", strings.NewReader(""))
		req.Header.Set("Accept", "application/json")
		req.Header.Set("X-CSRF-Token", tc.token)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("X-CSRF-Token %q: %d, want %d", tc.token, resp.StatusCode, tc.want)
		}
	}
}
