package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"beacon/migrations"
)

// snapshot runs read's queries on one connection, in a read-only
// transaction: they all see the database as it was at the first. read
// must run every query on the db it is given: one on another connection
// would wait for the pool, which snapshots may all hold. Not by
// GORM's Transaction: SQLite's transactions here begin IMMEDIATE (they
// are writes), and a read must not wait for the writer, nor hold it.
// SQLite takes a deferred transaction's snapshot at its first read;
// PostgreSQL's REPEATABLE READ takes it at its first statement.
func (s *Store) snapshot(ctx context.Context, read func(db *gorm.DB) error) error {
	begin := "BEGIN DEFERRED"
	if s.dialect == migrations.Postgres {
		begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
	}
	return s.db.WithContext(ctx).Connection(func(conn *gorm.DB) (err error) {
		if err := conn.Exec(begin).Error; err != nil {
			return fmt.Errorf("begin a snapshot: %w", err)
		}
		// Ended however read ends (a panic too), and when ctx has: the
		// connection goes back to the pool, where SQLite's would
		// otherwise stay in the transaction.
		defer func() {
			if rerr := conn.WithContext(context.WithoutCancel(ctx)).Exec("ROLLBACK").Error; rerr != nil && err == nil {
				err = fmt.Errorf("end a snapshot: %w", rerr)
			}
		}()
		return read(conn)
	})
}
