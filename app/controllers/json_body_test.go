package controllers_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"beacon/app/apptest"
)

// The JSON API takes exactly one JSON object, sent as application/json;
// anything else is refused with a JSON error and stores nothing.
func TestAPICreateTakesOnlyOneJSONObject(t *testing.T) {
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
	}{
		{"trailing text", "application/json", `{"title":"x"} trailing text`, 400},
		{"two objects", "application/json", `{"title":"x"}{"title":"y"}`, 400},
		{"null", "application/json", `null`, 400},
		{"not UTF-8", "application/json", "{\"title\":\"\xff\xfe\",\"body\":\"b\",\"level\":\"info\"}", 400},
		{"an array", "application/json", `[{"title":"x"}]`, 400},
		{"empty", "application/json", ``, 400},
		{"text/plain", "text/plain", `{"title":"x"}`, 415},
		{"form", "application/x-www-form-urlencoded", `title=x`, 415},
		{"no Content-Type", "", `{"title":"x"}`, 415},
		{"JSON look-alike type", "application/jsonp", `{"title":"x"}`, 415},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, msg := rawPost(t, app, token, tc.contentType, tc.body)
			if status != tc.status || msg == "" {
				t.Fatalf("status %d error %q; want %d with an error message", status, msg, tc.status)
			}
		})
	}
	if n := countNotifications(t, app); n != 0 {
		t.Fatalf("%d notifications stored from refused bodies", n)
	}
	// Parameters such as charset are fine, and so is whitespace around the object.
	if status, msg := rawPost(t, app, token, "application/json; charset=utf-8", " {\"title\":\"ok\"}\n"); status != 201 {
		t.Fatalf("application/json; charset=utf-8: %d %q", status, msg)
	}
}

// rawPost posts body to the API as given and returns the status and the
// "error" of the JSON answer ("" when the answer has none).
func rawPost(t *testing.T, app *apptest.App, token, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, app.URL+"/api/notifications", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := app.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var e struct{ Error string }
	if resp.StatusCode >= 400 {
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("%d answered as %q: %s", resp.StatusCode, ct, b)
		}
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("%d with a body that is not JSON: %s", resp.StatusCode, b)
		}
	}
	return resp.StatusCode, e.Error
}
