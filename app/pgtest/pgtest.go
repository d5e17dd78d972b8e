// Package pgtest gives tests a PostgreSQL database of their own, where the
// machine runs one. Only tests import it.
package pgtest

import (
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// defaultURL is the database this project's machines run; set
// BEACON_TEST_POSTGRES to use another, or to "off" to skip.
const defaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// dbPrefix starts the name of each test process's database.
const dbPrefix = "beacon_test_pid_"

// process is this test process's database, made at the first URL.
var process struct {
	once sync.Once
	url  string // "" when none could be made
	err  error
}

// URL returns the URL of a fresh schema, dropped when the test ends, or ""
// (with a log line saying why) when no PostgreSQL answers.
//
// The schema is in a database of this test process's own, made from
// BEACON_TEST_POSTGRES's server: PostgreSQL's advisory locks, which order
// Beacon's writes, are one set per database, and test packages run at
// once would otherwise wait for each other's locks (and a test counting
// its statements would count the retries that waiting costs).
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
	process.once.Do(func() { process.url, process.err = processDatabase(db, base) })
	if process.err != nil {
		t.Fatal(process.err)
	}
	own, err := sql.Open("pgx", process.url)
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	schema := fmt.Sprintf("beacon_test_%d", rand.Uint64())
	if _, err := own.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", process.url)
		if err != nil {
			return
		}
		defer db.Close()
		if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Logf("drop test schema %s: %v", schema, err)
		}
	})
	sep := "?"
	if strings.Contains(process.url, "?") {
		sep = "&"
	}
	return process.url + sep + "search_path=" + schema
}

// processDatabase makes this process's database on base's server and
// returns its URL. It first drops those of test processes that are gone:
// a process cannot drop its own as it exits, so the next run does.
func processDatabase(db *sql.DB, base string) (string, error) {
	rows, err := db.Query("SELECT datname FROM pg_database WHERE datname LIKE $1", dbPrefix+"%")
	if err != nil {
		return "", fmt.Errorf("list test databases: %w", err)
	}
	var stale []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return "", fmt.Errorf("list test databases: %w", err)
		}
		pid, err := strconv.Atoi(strings.TrimPrefix(name, dbPrefix))
		if err == nil && pid != os.Getpid() && errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			stale = append(stale, name)
		}
	}
	rows.Close()
	for _, name := range stale {
		// Another process may be dropping it too: either way it goes.
		_, _ = db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
	}
	name := dbPrefix + strconv.Itoa(os.Getpid())
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil && !strings.Contains(err.Error(), "already exists") {
		return "", fmt.Errorf("create this test process's database: %w", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("BEACON_TEST_POSTGRES: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}
