package store

import (
	"fmt"
	"sync/atomic"

	"gorm.io/gorm"
)

// queryCounter counts the SQL statements run through the store's GORM
// handle, for /metrics: how much of the database a burst of requests (a
// reconnect storm, say) really takes. The session store and the health
// check use the pool directly and are not counted.
type queryCounter struct{ n atomic.Int64 }

// register hooks the counter in after each kind of statement GORM runs:
// queries (a preload is one more), inserts, updates, deletes, and raw
// queries and statements.
func (c *queryCounter) register(db *gorm.DB) error {
	cb := db.Callback()
	hooks := []struct {
		after string
		p     interface {
			Register(name string, fn func(*gorm.DB)) error
		}
	}{
		{"gorm:query", cb.Query().After("gorm:query")},
		{"gorm:create", cb.Create().After("gorm:create")},
		{"gorm:update", cb.Update().After("gorm:update")},
		{"gorm:delete", cb.Delete().After("gorm:delete")},
		{"gorm:row", cb.Row().After("gorm:row")},
		{"gorm:raw", cb.Raw().After("gorm:raw")},
	}
	for _, h := range hooks {
		if err := h.p.Register("beacon:count_queries", c.count); err != nil {
			return fmt.Errorf("count queries after %s: %w", h.after, err)
		}
	}
	return nil
}

// count counts a statement that was sent: one GORM built SQL for. A call
// refused before that (a missing WHERE, say) reached no database.
func (c *queryCounter) count(db *gorm.DB) {
	if !db.DryRun && db.Statement.SQL.Len() > 0 {
		c.n.Add(1)
	}
}

// Queries is how many SQL statements the store has run since it was
// opened; see queryCounter for what is counted.
func (s *Store) Queries() int64 { return s.queries.n.Load() }
