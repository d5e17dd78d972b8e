package store

import (
	"context"
	"fmt"
)

// write runs fn as this process's one SQLite writer at a time, and simply
// runs it on PostgreSQL.
//
// SQLite has one write lock per file, and a connection that finds it taken
// polls for it in its busy handler, sleeping 1, 2, 5 … up to 100 ms between
// looks: under eight concurrent API calls a post waited tens to hundreds of
// milliseconds for a lock that had been free for most of that time. Queued
// here instead, the next writer starts the moment the last one commits.
// Writers outside this process, and the few writes not routed here
// (sessions, reads, chat), still meet the busy handler, as before.
func (s *Store) write(ctx context.Context, fn func() error) error {
	if s.writer == nil {
		return fn()
	}
	select {
	case s.writer <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("wait to write: %w", ctx.Err())
	}
	defer func() { <-s.writer }()
	return fn()
}
