// Package migrations holds Beacon's numbered, reversible SQL migrations,
// embedded in the binary, and runs them with goose.
//
// Each dialect has its own folder because the two databases spell an
// auto-incrementing id and a timestamp differently; the rest of the SQL is
// kept to what both accept, and both sets are tested.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// Dialect names the SQL flavour of a database.
type Dialect string

// The dialects Beacon runs on.
const (
	SQLite   Dialect = "sqlite3"
	Postgres Dialect = "postgres"
)

// NewProvider returns a goose provider over the migrations for dialect.
func NewProvider(db *sql.DB, dialect Dialect, logger *slog.Logger) (*goose.Provider, error) {
	var dir string
	var gd goose.Dialect
	switch dialect {
	case SQLite:
		dir, gd = "sqlite", goose.DialectSQLite3
	case Postgres:
		dir, gd = "postgres", goose.DialectPostgres
	default:
		return nil, fmt.Errorf("migrations: unknown dialect %q", dialect)
	}
	sub, err := fs.Sub(files, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if dialect == Postgres {
		locker, err := postgresLocker(db)
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	if logger != nil {
		opts = append(opts, goose.WithSlog(logger))
	}
	p, err := goose.NewProvider(gd, db, sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// Up applies every pending migration.
func Up(ctx context.Context, db *sql.DB, dialect Dialect, logger *slog.Logger) error {
	p, err := NewProvider(db, dialect, logger)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate up: %w", err)
	}
	return nil
}

// postgresLocker makes migrations on PostgreSQL take a session advisory
// lock first, so that two releases migrating at once (a deploy's release
// phase beside a starting `serve`) run them one after the other: the second
// finds nothing pending. The lock is the schema's, so Beacons in separate
// schemas of one database do not wait for each other.
func postgresLocker(db *sql.DB) (lock.SessionLocker, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var schema sql.NullString
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return nil, fmt.Errorf("migrations: read current schema: %w", err)
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "beacon migrations %s", schema.String)
	// Probe every second, for up to 5 minutes: a waiting release starts
	// soon after the first one finishes.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64())), lock.WithLockTimeout(1, 300))
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return locker, nil
}
