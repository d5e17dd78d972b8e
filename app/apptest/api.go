package apptest

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Notify posts a notification through the JSON API, as another system
// would, and returns its id; anything but 201 fails the test.
func (a *App) Notify(t testing.TB, token string, n map[string]string) int64 {
	t.Helper()
	resp, out := a.PostAPI(t, token, n)
	var created struct{ ID int64 }
	if resp.StatusCode != http.StatusCreated || json.Unmarshal([]byte(out), &created) != nil || created.ID == 0 {
		t.Fatalf("POST /api/notifications: %d %s", resp.StatusCode, out)
	}
	return created.ID
}

// PostAPI posts body as JSON to the notifications API with a bearer token
// ("" sends none), as another system would.
func (a *App) PostAPI(t testing.TB, token string, body any) (*http.Response, string) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return a.CallAPI(t, http.MethodPost, "/api/notifications", token, string(b))
}

// LastNotificationID is the id of the newest notification stored, in any
// state, as the admin list reads them; 0 when there is none. A test finds
// with it what a form it filled in stored.
func (a *App) LastNotificationID(t testing.TB) int64 {
	t.Helper()
	ns, err := a.Store.LatestNotifications(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) == 0 {
		return 0
	}
	return ns[0].ID
}

// CallAPI sends a JSON body (may be "") to path with method and a bearer
// token ("" sends none), as another system would.
func (a *App) CallAPI(t testing.TB, method, path, token, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, a.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.httpClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}

// httpClient is the test server's client, or for a remote app (another
// process) the default one.
func (a *App) httpClient() *http.Client {
	if a.Server == nil {
		return http.DefaultClient
	}
	return a.Server.Client()
}
