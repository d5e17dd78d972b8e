// Package store owns every query Beacon makes. It opens SQLite or
// PostgreSQL, runs the migrations, and returns model structs.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"beacon/migrations"
)

// ErrNotFound is returned when the row asked for does not exist (or is not
// the caller's to see).
var ErrNotFound = errors.New("not found")

// ErrEmailTaken is returned when a user with that email already exists.
var ErrEmailTaken = errors.New("email already taken")

// maxPostgresConns is how many connections one instance opens at most.
const maxPostgresConns = 20

// sqliteIdleConns is how many SQLite connections the pool keeps open
// between bursts. database/sql keeps 2 by default, so concurrent requests
// kept opening new ones (each reading the schema again): 303 were opened
// and closed again in one `beacon bench` run of 2,000 streams and 500
// posts.
const sqliteIdleConns = 16

// maxSQLiteConns caps SQLite's pool. Each connection has its own page
// cache and, through cgo, its own thread, and without a cap a burst of 250
// concurrent requests opened 250 connections.
// Readers share WAL but only as many run at once as there are cores, and
// writers take turns anyway; 40 leaves room past the idle 16 for writes
// sleeping in SQLite's busy handler while reads go on. No store method
// holds a connection while it waits for a second one or for the writer
// (write, groupTx), so waiting here cannot deadlock.
const maxSQLiteConns = 2 * maxPostgresConns

// Store is the database. It is safe for concurrent use.
type Store struct {
	db      *gorm.DB
	sqlDB   *sql.DB
	dialect migrations.Dialect
	// file is the SQLite file opened, and fileID its identity then; both
	// are empty on PostgreSQL and for an in-memory SQLite.
	file    string
	fileID  os.FileInfo
	queries queryCounter
	// writer is SQLite's single write lock as this process queues for it
	// (nil on PostgreSQL): see write.
	writer chan struct{}
	group  group // transactions waiting to take positions (and SQLite's writer): see groupTx
	tokens tokenCache
	// audiences are the audiences the change feed met (fillAddressees).
	audiences audienceCache
}

// IsPostgres reports whether url names a PostgreSQL database rather than a
// SQLite file.
func IsPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// Open connects to the database named by url: a postgres:// URL, or else a
// SQLite file path.
func Open(url string) (*Store, error) {
	cfg := &gorm.Config{
		Logger:         logger.Discard,
		TranslateError: true,
		NowFunc:        func() time.Time { return time.Now().UTC() },
	}
	var (
		db      *gorm.DB
		err     error
		dialect migrations.Dialect
	)
	if IsPostgres(url) {
		dialect = migrations.Postgres
		db, err = gorm.Open(postgres.Open(url), cfg)
	} else {
		dialect = migrations.SQLite
		dsn := sqliteDSN(url)
		if path := sqlitePath(url); path != "" {
			// The file is made here, once; the pool opens it read-write
			// only, so a connection opened after the file was deleted
			// fails instead of making an empty database at the path (and
			// /healthz tells "deleted" from "replaced").
			if err := createFile(path); err != nil {
				return nil, fmt.Errorf("open database: %w", err)
			}
			dsn += "&mode=rw"
		}
		db, err = gorm.Open(sqlite.New(sqlite.Config{DriverName: sqliteDriver, DSN: dsn}), cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if dialect == migrations.Postgres {
		// PostgreSQL refuses clients past max_connections (100 by default),
		// shared by every instance: a burst of requests queues for a
		// connection here instead of failing there.
		sqlDB.SetMaxOpenConns(maxPostgresConns)
		sqlDB.SetMaxIdleConns(maxPostgresConns / 2)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	st := &Store{db: db, sqlDB: sqlDB, dialect: dialect}
	st.group.turn = make(chan struct{}, 1)
	if err := st.queries.register(db); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	if dialect == migrations.SQLite {
		sqlDB.SetMaxOpenConns(maxSQLiteConns)
		sqlDB.SetMaxIdleConns(sqliteIdleConns)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		st.writer = st.group.turn // groups and lone writes take turns as the one writer
		// gorm.Open has connected, so the file exists by now.
		if err := st.recordFile(sqlitePath(url)); err != nil {
			sqlDB.Close()
			return nil, err
		}
	}
	return st, nil
}

// createFile makes an empty file at path unless one is there: SQLite
// takes an empty file for an empty database.
func createFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}

// sqliteFile turns a path into a file: URI ready for parameters.
func sqliteFile(path string) string {
	path = strings.TrimPrefix(path, "sqlite://")
	if strings.Contains(path, "?") {
		return "file:" + path + "&"
	}
	return "file:" + path + "?"
}

// Dialect is the SQL flavour of the database.
func (s *Store) Dialect() migrations.Dialect { return s.dialect }

// SQL is the underlying connection pool, for the migrations and the session store.
func (s *Store) SQL() *sql.DB { return s.sqlDB }

// Migrate applies pending migrations.
func (s *Store) Migrate(ctx context.Context, logger *slog.Logger) error {
	return migrations.Up(ctx, s.sqlDB, s.dialect, logger)
}

// Close closes the connection pool.
func (s *Store) Close() error {
	return s.sqlDB.Close()
}

// duplicate reports whether err is a unique-constraint violation. GORM
// translates the errors of mattn/go-sqlite3 and pgx; the cgo-free SQLite
// driver's it does not know, so its message is checked too.
func duplicate(err error) bool {
	return errors.Is(err, gorm.ErrDuplicatedKey) ||
		err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}
