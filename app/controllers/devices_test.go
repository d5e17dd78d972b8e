package controllers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"beacon/app/apptest"
)

// from is a new browser speaking from addr (TRUST_PROXY is on).
func from(t *testing.T, app *apptest.App, addr string) *apptest.Client {
	c := app.Client(t)
	c.Header.Set("X-Forwarded-For", addr)
	return c
}

func loginStatus(t *testing.T, c *apptest.Client, email, password string) int {
	t.Helper()
	resp, _ := c.PostForm(t, "/login", url.Values{"email": {email}, "password": {password}})
	return resp.StatusCode
}

// Issue 14's lockout: five wrong passwords for the admin from elsewhere
// lock the account, but not the admin's own browser, which signed in
// before and holds a device cookie.
func TestDeviceCookieBeatsAccountLockout(t *testing.T) {
	t.Parallel()
	app, admin, _ := apptest.WithAdmin(t, apptest.Options{Env: map[string]string{"TRUST_PROXY": "true"}})
	owner := from(t, app, "198.51.100.1")
	owner.Login(t, apptest.AdminEmail, apptest.AdminPassword)
	name := "beacon_device_" + itoa(admin.ID)
	if owner.Cookie(name) != "" {
		t.Fatal("the device cookie is sent beyond /login")
	}
	var held bool
	for _, ck := range owner.Jar.Cookies(mustURL(t, app.URL+"/login")) {
		held = held || ck.Name == name
	}
	if !held {
		t.Fatal("no device cookie after signing in")
	}
	owner.Logout(t)

	for i := range 5 {
		failLogin(t, from(t, app, "203.0.113."+itoa(int64(10+i))), apptest.AdminEmail, http.StatusUnprocessableEntity)
	}
	// An attacker without the cookie, even with the right password, waits.
	if got := loginStatus(t, from(t, app, "203.0.113.99"), apptest.AdminEmail, apptest.AdminPassword); got != http.StatusTooManyRequests {
		t.Fatalf("attacker after 5 failures: %d, want 429", got)
	}
	// A forged device cookie is no device.
	forger := from(t, app, "203.0.113.98")
	forger.Jar.SetCookies(mustURL(t, app.URL+"/login"), []*http.Cookie{{Name: "beacon_device_" + itoa(admin.ID), Value: itoa(admin.ID) + ".x~forged", Path: "/login"}})
	if got := loginStatus(t, forger, apptest.AdminEmail, apptest.AdminPassword); got != http.StatusTooManyRequests {
		t.Fatalf("forged device cookie: %d, want 429", got)
	}
	// The owner's browser gets in.
	owner.Login(t, apptest.AdminEmail, apptest.AdminPassword)
	if !signedInAs(t, owner, "Ada") {
		t.Fatal("the owner is not signed in")
	}
	// And her success did not lift the limit for the others.
	if got := loginStatus(t, from(t, app, "203.0.113.97"), apptest.AdminEmail, apptest.AdminPassword); got != http.StatusTooManyRequests {
		t.Fatalf("attacker after the owner's sign-in: %d, want 429", got)
	}
}

// Failures from a device cookie count against that device only: not the
// account, not the address.
func TestDeviceFailuresCountAgainstTheDevice(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{Env: map[string]string{"TRUST_PROXY": "true"}})
	app.CreateUser(t, "Bea", "bea@example.com", "long enough", false)
	browser := from(t, app, "198.51.100.2")
	browser.Login(t, "bea@example.com", "long enough")
	browser.Logout(t)
	for range 5 {
		failLogin(t, browser, "bea@example.com", http.StatusUnprocessableEntity)
	}
	resp, body := browser.PostForm(t, "/login", url.Values{"email": {"bea@example.com"}, "password": {"long enough"}})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "Too many failed") {
		t.Fatalf("the device after its 5 failures: %d", resp.StatusCode)
	}
	// The account and the address were not charged.
	if got := loginStatus(t, from(t, app, "198.51.100.3"), "bea@example.com", "long enough"); got != http.StatusSeeOther {
		t.Fatalf("another browser, right password: %d, want 303", got)
	}
	app.CreateUser(t, "Cy", "cy@example.com", "long enough", false)
	if got := loginStatus(t, from(t, app, "198.51.100.2"), "cy@example.com", "long enough"); got != http.StatusSeeOther {
		t.Fatalf("another account from the device's address: %d, want 303", got)
	}
}
