package controllers_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"beacon/app/apptest"
	"beacon/app/models"
)

// subscriptionJSON is PushSubscription.toJSON() as a browser sends it, with
// fresh keys.
func subscriptionJSON(t *testing.T, endpoint string) string {
	t.Helper()
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 16)
	rand.Read(secret)
	return fmt.Sprintf(`{"endpoint":%q,"expirationTime":null,"keys":{"p256dh":%q,"auth":%q}}`, endpoint,
		base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes()), base64.RawURLEncoding.EncodeToString(secret))
}

// pushCall sends the page script's request: JSON, with the session's CSRF
// token in X-CSRF-Token unless csrf is "".
func pushCall(t *testing.T, c *apptest.Client, method, csrf, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, c.URL("/push/subscriptions"), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(bytes.TrimSpace(b))
}

// A signed-in browser saves its Web Push subscription and takes it back
// (INTERFACE.md, "Web Push": POST and DELETE /push/subscriptions).
func TestABrowserSubscribesToWebPushAndUnsubscribes(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app := apptest.New(t, opts)
		ann := app.CreateUser(t, "Ann", "ann@example.com", "password ann", false)
		bob := app.CreateUser(t, "Bob", "bob@example.com", "password bob", false)
		c := app.Client(t)
		c.Login(t, "ann@example.com", "password ann")
		csrf := c.CSRF(t)
		endpoint := "https://fcm.googleapis.com/fcm/send/ann-laptop"

		if status, body := pushCall(t, app.Client(t), http.MethodPost, "", subscriptionJSON(t, endpoint)); status != http.StatusUnauthorized {
			t.Errorf("a visitor subscribing: %d %s, want 401", status, body)
		}
		if status, body := pushCall(t, c, http.MethodPost, "", subscriptionJSON(t, endpoint)); status != http.StatusForbidden {
			t.Errorf("without the CSRF token: %d %s, want 403", status, body)
		}
		for _, bad := range []string{
			subscriptionJSON(t, "https://push.evil.example/x"),
			subscriptionJSON(t, "http://fcm.googleapis.com/fcm/send/x"),
			`{"endpoint":"https://fcm.googleapis.com/fcm/send/x","keys":{"p256dh":"AAAA","auth":"AAAA"}}`,
		} {
			if status, body := pushCall(t, c, http.MethodPost, csrf, bad); status != http.StatusUnprocessableEntity || !strings.Contains(body, `"subscription"`) {
				t.Errorf("%.80s: %d %s, want 422", bad, status, body)
			}
		}
		if status, body := pushCall(t, c, http.MethodPost, csrf, "not json"); status != http.StatusBadRequest {
			t.Errorf("not JSON: %d %s, want 400", status, body)
		}
		if subs := mustSubs(t, app, ann.ID); len(subs) != 0 {
			t.Fatalf("refused subscriptions stored: %d", len(subs))
		}

		if status, body := pushCall(t, c, http.MethodPost, csrf, subscriptionJSON(t, endpoint)); status != http.StatusCreated {
			t.Fatalf("subscribing: %d %s, want 201", status, body)
		}
		if status, body := pushCall(t, c, http.MethodPost, csrf, subscriptionJSON(t, endpoint)); status != http.StatusOK {
			t.Errorf("the same endpoint again: %d %s, want 200", status, body)
		}
		if subs := mustSubs(t, app, ann.ID); len(subs) != 1 || subs[0].Endpoint != endpoint {
			t.Fatalf("ann's subscriptions: %+v", subs)
		}
		// Bob signs in on the same browser: the endpoint is his now.
		b := app.Client(t)
		b.Login(t, "bob@example.com", "password bob")
		if status, body := pushCall(t, b, http.MethodPost, b.CSRF(t), subscriptionJSON(t, endpoint)); status != http.StatusOK {
			t.Errorf("bob taking the endpoint over: %d %s, want 200", status, body)
		}
		if a, bs := mustSubs(t, app, ann.ID), mustSubs(t, app, bob.ID); len(a) != 0 || len(bs) != 1 {
			t.Errorf("after bob took it over: ann %d, bob %d subscriptions", len(a), len(bs))
		}
		// At most ten devices: the eleventh lets the oldest go.
		for i := range 11 {
			if status, body := pushCall(t, c, http.MethodPost, csrf, subscriptionJSON(t, fmt.Sprintf("%s-%d", endpoint, i))); status != http.StatusCreated {
				t.Fatalf("device %d: %d %s", i, status, body)
			}
		}
		subs := mustSubs(t, app, ann.ID)
		if len(subs) != 10 || subs[len(subs)-1].Endpoint != endpoint+"-1" {
			t.Errorf("after eleven devices: %d, the oldest %q; want 10, the first gone", len(subs), subs[len(subs)-1].Endpoint)
		}
		// Unsubscribing in the browser removes it here; bob's is not ann's to remove.
		if status, body := pushCall(t, c, http.MethodDelete, csrf, fmt.Sprintf(`{"endpoint":%q}`, endpoint+"-5")); status != http.StatusNoContent {
			t.Errorf("unsubscribing: %d %s, want 204", status, body)
		}
		pushCall(t, c, http.MethodDelete, csrf, fmt.Sprintf(`{"endpoint":%q}`, endpoint))
		if a, bs := mustSubs(t, app, ann.ID), mustSubs(t, app, bob.ID); len(a) != 9 || len(bs) != 1 {
			t.Errorf("after deletes: ann %d (want 9), bob %d (want 1)", len(a), len(bs))
		}
	})
}

func mustSubs(t *testing.T, app *apptest.App, userID int64) []models.PushSubscription {
	t.Helper()
	subs, err := app.Store.PushSubscriptionsOf(t.Context(), userID)
	if err != nil {
		t.Fatal(err)
	}
	return subs
}

// /settings lists the person's push devices, and Remove (a plain form)
// forgets one of theirs, never another's.
func TestSettingsListTheDevicesAndRemoveOne(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app := apptest.New(t, opts)
		ann := app.CreateUser(t, "Ann", "ann@example.com", "password ann", false)
		app.CreateUser(t, "Bob", "bob@example.com", "password bob", false)
		if resp, _ := app.Client(t).Get(t, "/settings"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Errorf("a visitor on /settings: %d to %q, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
		}
		c := app.Client(t)
		c.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
		c.Login(t, "ann@example.com", "password ann")
		for _, e := range []string{"laptop", "phone"} {
			if status, body := pushCall(t, c, http.MethodPost, c.CSRF(t), subscriptionJSON(t, "https://fcm.googleapis.com/fcm/send/"+e)); status != http.StatusCreated {
				t.Fatalf("subscribing %s: %d %s", e, status, body)
			}
		}
		_, page := c.Get(t, "/settings")
		subs := mustSubs(t, app, ann.ID)
		if strings.Count(page, `class="device card"`) != 2 || !strings.Contains(page, "Firefox on Linux") || !strings.Contains(page, "no push yet") {
			t.Fatalf("ann's settings do not list her two devices as Firefox on Linux")
		}
		b := app.Client(t)
		b.Login(t, "bob@example.com", "password bob")
		resp, _ := b.PostForm(t, fmt.Sprintf("/settings/devices/%d/remove", subs[0].ID), map[string][]string{"_csrf": {b.CSRF(t)}})
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("bob removing ann's device: %d, want 404", resp.StatusCode)
		}
		resp, _ = c.PostForm(t, fmt.Sprintf("/settings/devices/%d/remove", subs[0].ID), map[string][]string{"_csrf": {c.CSRF(t)}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("ann removing her device: %d, want 303", resp.StatusCode)
		}
		if left := mustSubs(t, app, ann.ID); len(left) != 1 || left[0].ID != subs[1].ID {
			t.Errorf("after removing one: %+v", left)
		}
	})
}
