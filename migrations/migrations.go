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
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
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
