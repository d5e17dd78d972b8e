package controllers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"beacon/app/apptest"
)

const sessionCookie = "beacon_session"

// signedInAs reports whether c's feed page is rendered for the user name.
func signedInAs(t *testing.T, c *apptest.Client, name string) bool {
	t.Helper()
	resp, body := c.Get(t, "/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /: %d", resp.StatusCode)
	}
	return strings.Contains(body, `<span class="user-name">`+name+`</span>`)
}

// signedIn reports whether c's feed page is rendered for anyone signed in.
// A session cookie alone says nothing: visitors get one on the sign-in form.
func signedIn(t *testing.T, c *apptest.Client) bool {
	t.Helper()
	_, body := c.Get(t, "/")
	return strings.Contains(body, `<span class="user-name">`)
}

func TestLoginAndLogout(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.CreateUser(t, "Bea", "bea@example.com", "long enough", false)
	c := app.Client(t)

	resp, body := c.PostForm(t, "/login", url.Values{"email": {"bea@example.com"}, "password": {"wrong password"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Invalid email or password.") {
		t.Fatalf("wrong password: %d\n%s", resp.StatusCode, body)
	}
	c.Login(t, "BEA@example.com", "long enough") // any letter case
	if !signedInAs(t, c, "Bea") {
		t.Fatal("not signed in after login")
	}
	c.Logout(t)
	if signedInAs(t, c, "Bea") {
		t.Fatal("still signed in after logout")
	}
}

// A session id planted before login (here: the attacker's own session) is
// worthless afterwards: login issues a new one and retires the old.
func TestLoginIssuesNewSessionID(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.CreateUser(t, "Mallory", "mallory@example.com", "long enough", false)
	app.CreateUser(t, "Vic", "vic@example.com", "also long enough", false)

	attacker := app.Client(t)
	attacker.Login(t, "mallory@example.com", "long enough")
	planted := attacker.Cookie(sessionCookie)
	if planted == "" {
		t.Fatal("no session cookie after login")
	}

	victim := app.Client(t)
	victim.SetCookie(sessionCookie, planted)
	victim.Login(t, "vic@example.com", "also long enough")
	if got := victim.Cookie(sessionCookie); got == "" || got == planted {
		t.Fatalf("session cookie after login %q, planted %q: want a new one", got, planted)
	}
	if !signedInAs(t, victim, "Vic") {
		t.Fatal("victim not signed in")
	}
	// The planted id names no session any more, and never the victim's.
	if signedInAs(t, attacker, "Vic") || signedInAs(t, attacker, "Mallory") {
		t.Fatal("the planted session id still signs someone in")
	}
}

// Logout ends the session on the server: a copy of the cookie taken
// before is refused afterwards.
func TestLogoutEndsSessionServerSide(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.CreateUser(t, "Bea", "bea@example.com", "long enough", true)
	c := app.Client(t)
	c.Login(t, "bea@example.com", "long enough")
	stolen := c.Cookie(sessionCookie)

	thief := app.Client(t)
	thief.SetCookie(sessionCookie, stolen)
	if resp, _ := thief.Get(t, "/admin/notifications"); resp.StatusCode != http.StatusOK {
		t.Fatalf("copied cookie before logout: %d, want 200", resp.StatusCode)
	}
	c.Logout(t)
	if resp, _ := thief.Get(t, "/admin/notifications"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("copied cookie after logout: %d, want 303 to /login", resp.StatusCode)
	}
}

func failLogin(t *testing.T, c *apptest.Client, email string, want int) string {
	t.Helper()
	resp, body := c.PostForm(t, "/login", url.Values{"email": {email}, "password": {"not the password"}})
	if resp.StatusCode != want {
		t.Fatalf("login %s: %d, want %d\n%s", email, resp.StatusCode, want, body)
	}
	return body
}

func TestLoginThrottledPerEmail(t *testing.T) {
	t.Parallel()
	// TRUST_PROXY lets the test speak from several addresses.
	app := apptest.New(t, apptest.Options{Env: map[string]string{"TRUST_PROXY": "true"}})
	app.CreateUser(t, "Bea", "bea@example.com", "long enough", false)
	for i := range 5 {
		c := app.Client(t)
		c.Header.Set("X-Forwarded-For", "203.0.113."+string(rune('1'+i)))
		failLogin(t, c, "bea@example.com", http.StatusUnprocessableEntity)
	}
	c := app.Client(t)
	c.Header.Set("X-Forwarded-For", "203.0.113.99")
	resp, body := c.PostForm(t, "/login", url.Values{"email": {"Bea@Example.com"}, "password": {"long enough"}})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(body, "Too many failed sign-in attempts") {
		t.Fatalf("6th attempt, right password: %d Retry-After %q\n%s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if signedIn(t, c) {
		t.Fatal("a refused attempt signed in")
	}
	// Another account from that address is not affected.
	app.CreateUser(t, "Cy", "cy@example.com", "long enough", false)
	c.Login(t, "cy@example.com", "long enough")
}

func TestLoginThrottledPerAddress(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.CreateUser(t, "Bea", "bea@example.com", "long enough", false)
	c := app.Client(t)
	for i := range 5 {
		failLogin(t, c, "nobody"+string(rune('a'+i))+"@example.com", http.StatusUnprocessableEntity)
	}
	// Without TRUST_PROXY a forged X-Forwarded-For changes nothing.
	c.Header.Set("X-Forwarded-For", "198.51.100.1")
	resp, _ := c.PostForm(t, "/login", url.Values{"email": {"bea@example.com"}, "password": {"long enough"}})
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("6th attempt from one address: %d, want 429", resp.StatusCode)
	}
}
