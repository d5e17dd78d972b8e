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
