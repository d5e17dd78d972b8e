package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"beacon/migrations"
)

// What only the tests of this package use.

// ExplainUnreadCount returns the query plan for UnreadCount, one line per
// step, so a test can check that it stays on its indexes.
func (s *Store) ExplainUnreadCount(ctx context.Context) ([]string, error) {
	if s.dialect == migrations.Postgres {
		var plan []string
		err := s.db.WithContext(ctx).Raw("EXPLAIN (COSTS OFF) "+unreadCountSQL,
			map[string]any{"user": 1, "through": NoLimit}).Scan(&plan).Error
		if err != nil {
			return nil, fmt.Errorf("explain unread count: %w", err)
		}
		return plan, nil
	}
	rows, err := s.db.WithContext(ctx).Raw("EXPLAIN QUERY PLAN "+unreadCountSQL,
		map[string]any{"user": 1, "through": NoLimit}).Rows()
	if err != nil {
		return nil, fmt.Errorf("explain unread count: %w", err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return nil, fmt.Errorf("explain unread count: %w", err)
		}
		plan = append(plan, detail)
	}
	return plan, rows.Err()
}

// CountQueries counts the queries, row scans and raw statements s runs from now on
// (once per Store: the callbacks are registered under one name).
func (s *Store) CountQueries() (*atomic.Int64, error) {
	var n atomic.Int64
	count := func(*gorm.DB) { n.Add(1) }
	if err := s.db.Callback().Query().After("gorm:query").Register("test:count", count); err != nil {
		return nil, err
	}
	if err := s.db.Callback().Raw().After("gorm:raw").Register("test:count", count); err != nil {
		return nil, err
	}
	if err := s.db.Callback().Row().After("gorm:row").Register("test:count", count); err != nil {
		return nil, err
	}
	return &n, nil
}

// AfterQuery calls step after each query the store runs through GORM (not
// its hand-written ones), with the table it read, until the test ends.
func (s *Store) AfterQuery(t testing.TB, step func(table string)) {
	name := fmt.Sprintf("test:after_query_%p", step)
	if err := s.db.Callback().Query().After("gorm:query").Register(name, func(db *gorm.DB) { step(db.Statement.Table) }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.db.Callback().Query().Remove(name) })
}
