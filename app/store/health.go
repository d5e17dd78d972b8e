package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// What Health finds wrong with a SQLite file. Their text is safe to show:
// it names no path.
var (
	ErrFileDeleted  = errors.New("the SQLite file was deleted (or moved) since Beacon opened it: what is written now is lost at restart")
	ErrFileReplaced = errors.New("the SQLite file was replaced since Beacon opened it: Beacon still writes to the old one")
)

// Health asks the database a real question, and on SQLite checks that the
// file at its path is still the one opened: SQLite's open connections keep
// reading and writing a deleted or replaced file without an error.
//
// The file is checked first: once it is gone, the query fails too whenever
// it needs a new connection (the pool opens the path read-write only), and
// "deleted" is the answer that tells an operator what happened.
func (s *Store) Health(ctx context.Context) error {
	if s.file != "" {
		fi, err := os.Stat(s.file)
		switch {
		case errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("%s: %w", s.file, ErrFileDeleted)
		case err != nil:
			return fmt.Errorf("check the SQLite file: %w", err)
		case !os.SameFile(fi, s.fileID): // device and inode
			return fmt.Errorf("%s: %w", s.file, ErrFileReplaced)
		}
	}
	var one int
	if err := s.sqlDB.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("query the database: %w", err)
	}
	return nil
}

// sqlitePath is the file a SQLite URL names, or "" for an in-memory
// database.
func sqlitePath(url string) string {
	p := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite://"), "file:")
	p, query, _ := strings.Cut(p, "?")
	if p == "" || p == ":memory:" || strings.Contains(query, "mode=memory") {
		return ""
	}
	return p
}

// recordFile notes the identity of the SQLite file at path once the pool
// has opened it, for Health to compare.
func (s *Store) recordFile(path string) error {
	if path == "" {
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	s.file, s.fileID = path, fi
	return nil
}
