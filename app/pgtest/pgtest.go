// Package pgtest gives tests a PostgreSQL database of their own, where the
// machine runs one. Only tests import it.
package pgtest

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// defaultURL is the database this project's machines run; set
// BEACON_TEST_POSTGRES to use another, or to "off" to skip.
const defaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// URL returns the URL of a fresh schema, dropped when the test ends, or ""
// (with a log line saying why) when no PostgreSQL answers.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("BEACON_TEST_POSTGRES")
	if base == "off" {
		return ""
	}
	if base == "" {
		base = defaultURL
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(); err != nil {
		t.Logf("PostgreSQL not reachable at %s (%v): testing SQLite only", base, err)
		return ""
	}
	schema := fmt.Sprintf("beacon_test_%d", rand.Uint64())
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Logf("drop test schema %s: %v", schema, err)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}
