package controllers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"beacon/app/apptest"
)

func TestSignupCreatesAccountAndSignsIn(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Client(t)
	resp, body := c.Get(t, "/signup")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="_csrf"`) {
		t.Fatalf("GET /signup: %d\n%s", resp.StatusCode, body)
	}
	if _, body := c.Get(t, "/login"); !strings.Contains(body, `href="/signup"`) {
		t.Fatal("no sign-up link while sign-up is on")
	}
	c.Signup(t, "Sid", "Sid@Example.com", "x7#kq9!m")
	if !signedInAs(t, c, "Sid") {
		t.Fatal("not signed in after sign-up")
	}
	c.Logout(t)
	other := app.Client(t)
	other.Login(t, "sid@example.com", "x7#kq9!m")
}

func TestSignupValidation(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.CreateUser(t, "Taken", "taken@example.com", "long enough", false)
	for _, tc := range []struct {
		name, email, password string
		field, msg            string
	}{
		{"Sid", "TAKEN@example.COM", "long enough", "email", "is already taken"},
		{"Sid", "not-an-email", "long enough", "email", "is not a valid email address"},
		{"Sid", "Sid <sid@example.com>", "long enough", "email", "is not a valid email address"},
		{"Sid", "sid@example", "long enough", "email", "is not a valid email address"},
		{"Sid", "", "long enough", "email", "be blank"},
		{"Sid", "sid@example.com", "seven c", "password", "is too short (at least 8 characters)"},
		{"Sid", "sid@example.com", strings.Repeat("x", 73), "password", "is too long"},
		{"  ", "sid@example.com", "long enough", "name", "be blank"},
	} {
		c := app.Client(t)
		resp, body := c.PostForm(t, "/signup", url.Values{"name": {tc.name}, "email": {tc.email}, "password": {tc.password}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, tc.msg) {
			t.Errorf("%+v: %d, want 422 with %q\n%s", tc, resp.StatusCode, tc.msg, body)
		}
		if strings.Contains(body, tc.password) && tc.password != "" {
			t.Errorf("%+v: the password was sent back", tc)
		}
		if signedIn(t, c) {
			t.Errorf("%+v: signed in after a refused sign-up", tc)
		}
	}
	if _, err := app.Store.UserByEmail(t.Context(), "sid@example.com"); err == nil {
		t.Fatal("a refused sign-up created the user")
	}
}

func TestSignupNeedsCSRF(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Client(t)
	resp, _ := c.PostFormRaw(t, "/signup", url.Values{"name": {"Sid"}, "email": {"sid@example.com"}, "password": {"long enough"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-up without _csrf: %d, want 403", resp.StatusCode)
	}
}

func TestSignupSwitchedOff(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{Env: map[string]string{"SIGNUP": "false"}})
	c := app.Client(t)
	if resp, _ := c.Get(t, "/signup"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /signup with SIGNUP=false: %d, want 404", resp.StatusCode)
	}
	resp, _ := c.PostForm(t, "/signup", url.Values{"name": {"Sid"}, "email": {"sid@example.com"}, "password": {"long enough"}})
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("POST /signup with SIGNUP=false: %d, want 404", resp.StatusCode)
	}
	for _, path := range []string{"/", "/login"} {
		if _, body := c.Get(t, path); strings.Contains(body, `href="/signup"`) {
			t.Fatalf("%s links to /signup while sign-up is off", path)
		}
	}
}

// Common passwords and names that can pass for someone else are refused
// with the form and a message, and create nothing.
func TestSignupRefusesCommonPasswordsAndDisguisedNames(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	for _, tc := range []struct {
		name, password, field, msg string
	}{
		{"Sid", "password", "password", "too easy to guess"},
		{"Sid", "12345678", "password", "too easy to guess"},
		{"Sid", "iloveyou", "password", "too easy to guess"},
		{"Sid", "Password1", "password", "too easy to guess"},
		{"Sid", "qwertyuiop", "password", "too easy to guess"},
		{"Sid", "sid@example.com", "password", "too easy to guess"}, // the account's own email
		{"\u202enimdA", "long enough", "name", "formatting characters"},
		{"Ad\u200emin", "long enough", "name", "formatting characters"},
		{"Ad\u2066min", "long enough", "name", "formatting characters"},
		{"Ad\nmin", "long enough", "name", "control"},
		{"Ad\u0007min", "long enough", "name", "control"},
	} {
		c := app.Client(t)
		resp, body := c.PostForm(t, "/signup", url.Values{"name": {tc.name}, "email": {"sid@example.com"}, "password": {tc.password}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, tc.msg) || !strings.Contains(body, `action="/signup"`) {
			t.Errorf("%q / %q: %d, want 422 with %q\n%s", tc.name, tc.password, resp.StatusCode, tc.msg, body)
		}
	}
	if _, err := app.Store.UserByEmail(t.Context(), "sid@example.com"); err == nil {
		t.Fatal("a refused sign-up created the user")
	}
	// What is not refused: a name in another script, a good password.
	app.Client(t).Signup(t, "Zoë Ζωή 李", "zoe@example.com", "x7#kq9!m")
}

// SIGNUP_LIMIT sign-ups per address per hour; then 429 with Retry-After,
// counted in the database (a second instance on it sees the same count).
func TestSignupLimitPerAddress(t *testing.T) {
	t.Parallel()
	db := t.TempDir() + "/beacon.db"
	env := map[string]string{"SIGNUP_LIMIT": "3", "TRUST_PROXY": "true"}
	one := apptest.New(t, apptest.Options{DatabaseURL: db, Env: env})
	two := apptest.New(t, apptest.Options{DatabaseURL: db, Env: env})
	signup := func(app *apptest.App, addr, email string) (*http.Response, string) {
		c := app.Client(t)
		c.Header.Set("X-Forwarded-For", addr)
		return c.PostForm(t, "/signup", url.Values{"name": {"Flood"}, "email": {email}, "password": {"x7#kq9!m"}})
	}
	for i, app := range []*apptest.App{one, two, one} {
		if resp, body := signup(app, "203.0.113.5", "f"+itoa(int64(i))+"@example.com"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-up %d: %d\n%s", i+1, resp.StatusCode, body)
		}
	}
	resp, body := signup(two, "203.0.113.5", "f9@example.com")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(body, "Too many sign-ups") || !strings.Contains(body, `action="/signup"`) {
		t.Fatalf("4th sign-up: %d Retry-After %q\n%s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if _, err := one.Store.UserByEmail(t.Context(), "f9@example.com"); err == nil {
		t.Fatal("the refused sign-up created the user")
	}
	if resp, _ := signup(one, "203.0.113.6", "g@example.com"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("another address: %d", resp.StatusCode)
	}
	// A form that is refused anyway is not counted against the address.
	if resp, _ := signup(one, "203.0.113.7", "not-an-email"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad form: %d", resp.StatusCode)
	}

	off := apptest.New(t, apptest.Options{Env: map[string]string{"SIGNUP_LIMIT": "0"}})
	for i := range 12 {
		if resp, _ := signup(off, "", "o"+itoa(int64(i))+"@example.com"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("SIGNUP_LIMIT=0, sign-up %d: %d", i+1, resp.StatusCode)
		}
	}
}
