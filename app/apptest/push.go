package apptest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"beacon/app/push"
)

// PushKey is the server's VAPID public key, as a page reads it.
func (a *App) PushKey(t testing.TB) string {
	t.Helper()
	resp, body := a.Client(t).Get(t, "/push/key")
	var k struct {
		PublicKey string `json:"public_key"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &k) != nil || k.PublicKey == "" {
		t.Fatalf("GET /push/key: %d %s", resp.StatusCode, body)
	}
	return k.PublicKey
}

// SubscribePush saves sub for the signed-in user, as the settings page's
// script does; anything but 201 or 200 fails the test.
func (c *Client) SubscribePush(t testing.TB, sub push.Subscription) {
	t.Helper()
	b, err := json.Marshal(sub)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, c.URL("/push/subscriptions"), strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-CSRF-Token", c.CSRF(t))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /push/subscriptions: %d %s", resp.StatusCode, body)
	}
}
