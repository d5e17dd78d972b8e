//go:build cgo

package store

// sqliteDriver is mattn/go-sqlite3, which gorm.io/driver/sqlite brings:
// SQLite itself, compiled in through cgo.
const sqliteDriver = "sqlite3"

// sqliteDSN adds what concurrent writers need: WAL so readers never wait,
// a busy timeout, and transactions that take the write lock when they
// begin, so two writers queue instead of failing with "database is locked".
func sqliteDSN(path string) string {
	return sqliteFile(path) + "_journal_mode=WAL&_busy_timeout=10000&_txlock=immediate&_foreign_keys=on&_synchronous=NORMAL"
}
