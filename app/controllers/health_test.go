package controllers_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"beacon/app/apptest"
)

// /healthz asks the database a real question, and on SQLite checks that
// the file it opened is still the one at its path: pooled connections keep
// writing to a deleted file, and whatever they write is lost at restart.
func TestHealthFailsWhenTheSQLiteFileGoes(t *testing.T) {
	health := func(t *testing.T, app *apptest.App) (int, string, string) {
		t.Helper()
		resp, body := app.Client(t).Get(t, "/healthz")
		var h struct{ Status, Error string }
		if err := json.Unmarshal([]byte(body), &h); err != nil {
			t.Fatalf("healthz %d: %s", resp.StatusCode, body)
		}
		return resp.StatusCode, h.Status, h.Error
	}
	for _, tc := range []struct {
		name   string
		break_ func(path string) error
		want   string
	}{
		{"deleted", os.Remove, "deleted"},
		{"replaced", func(path string) error {
			if err := os.Remove(path); err != nil {
				return err
			}
			return os.WriteFile(path, nil, 0o600)
		}, "replaced"},
		{"moved away", func(path string) error { return os.Rename(path, path+".old") }, "deleted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "beacon.db")
			app := apptest.New(t, apptest.Options{DatabaseURL: path})
			if status, s, _ := health(t, app); status != 200 || s != "ok" {
				t.Fatalf("healthy app: %d %s", status, s)
			}
			if err := tc.break_(path); err != nil {
				t.Fatal(err)
			}
			status, s, msg := health(t, app)
			if status != 503 || s != "unavailable" || !strings.Contains(msg, tc.want) || strings.Contains(msg, path) {
				t.Fatalf("after the file was %s: %d %s %q; want 503 saying %q (and not the path)", tc.name, status, s, msg, tc.want)
			}
		})
	}
}

// Uptime monitors often ask with HEAD (some by default): the health check
// and the feed answer it as they answer GET, without a body.
func TestHeadIsAnsweredLikeGet(t *testing.T) {
	app := apptest.New(t, apptest.Options{})
	for _, path := range []string{"/healthz", "/"} {
		req, err := http.NewRequest(http.MethodHead, app.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := app.Server.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || len(body) != 0 {
			t.Errorf("HEAD %s: %s with %d bytes, want 200 and none", path, resp.Status, len(body))
		}
	}
}
