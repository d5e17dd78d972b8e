package controllers_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"go.uber.org/goleak"

	"beacon/app/apptest"
	"beacon/app/pgtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// database/sql's connection opener lives until its DB is closed,
		// and net/http keeps idle keep-alive connections around.
		goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
		// scs.New starts a memory store's cleanup loop before we replace the store.
		goleak.IgnoreTopFunction("github.com/alexedwards/scs/v2/memstore.(*MemStore).startCleanup"),
	)
}

// postJSON calls the API as another system would.
func postJSON(t *testing.T, app *apptest.App, token string, body any) (*http.Response, string) {
	t.Helper()
	return app.PostAPI(t, token, body)
}

// adminApp starts the app with an admin and that admin's API token.
func adminApp(t *testing.T, opts apptest.Options) (*apptest.App, string) {
	t.Helper()
	app := apptest.New(t, opts)
	admin := app.CreateUser(t, "Ada", "ada@example.com", "correct horse", true)
	return app, app.Token(t, admin)
}

// notify posts a broadcast through the API and returns its id.
func notify(t *testing.T, app *apptest.App, token string, body map[string]string) int64 {
	t.Helper()
	resp, out := postJSON(t, app, token, body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/notifications: %d %s", resp.StatusCode, out)
	}
	var n struct{ ID int64 }
	if err := json.Unmarshal([]byte(out), &n); err != nil || n.ID == 0 {
		t.Fatalf("POST /api/notifications: bad body %q: %v", out, err)
	}
	return n.ID
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// forEachDatabase runs test on SQLite, and again on PostgreSQL where one
// answers.
func forEachDatabase(t *testing.T, test func(t *testing.T, opts apptest.Options)) {
	t.Run("sqlite", func(t *testing.T) { test(t, apptest.Options{}) })
	if url := pgtest.URL(t); url != "" {
		t.Run("postgres", func(t *testing.T) { test(t, apptest.Options{DatabaseURL: url}) })
	}
}
