//go:build !cgo

package store

import _ "modernc.org/sqlite" // registers the "sqlite" driver

// sqliteDriver is modernc.org/sqlite, SQLite translated to Go, for a build
// without a C compiler (CGO_ENABLED=0), where mattn/go-sqlite3 cannot
// work: `go run .` must work on a machine that has only Go.
const sqliteDriver = "sqlite"

// sqliteDSN sets what concurrent writers need, as the cgo build does: WAL,
// a busy timeout, and write transactions that begin as writers.
func sqliteDSN(path string) string {
	return sqliteFile(path) + "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}
