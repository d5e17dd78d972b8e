package store

import (
	"context"
	"path/filepath"
	"testing"

	"beacon/app/pgtest"
)

// OpenTestDatabases opens a fresh, migrated store on SQLite, and on
// PostgreSQL when one is reachable (in a schema of its own, dropped
// afterwards). Tests of this package, internal and external, share it.
func OpenTestDatabases(t *testing.T) map[string]*Store {
	t.Helper()
	out := map[string]*Store{"sqlite": open(t, filepath.Join(t.TempDir(), "beacon.db"))}
	if url := pgtest.URL(t); url != "" {
		out["postgres"] = open(t, url)
	}
	return out
}

func open(t testing.TB, url string) *Store {
	t.Helper()
	st, err := Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return st
}
