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
	c.Signup(t, "Sid", "Sid@Example.com", "eight ch")
	if !signedInAs(t, c, "Sid") {
		t.Fatal("not signed in after sign-up")
	}
	c.Logout(t)
	other := app.Client(t)
	other.Login(t, "sid@example.com", "eight ch")
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
