package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"beacon/app/models"
	"beacon/migrations"
)

// BatchError says which notification of a batch was refused, and why.
// Index is -1 when the database refused several at once without saying
// which (a recipient deleted since it was checked).
type BatchError struct {
	Index int
	Err   error
}

func (e *BatchError) Error() string {
	if e.Index < 0 {
		return e.Err.Error()
	}
	return fmt.Sprintf("notification %d: %v", e.Index, e.Err)
}

func (e *BatchError) Unwrap() error { return e.Err }

// CreateOrReplaceNotifications stores each of ns as
// CreateOrReplaceNotification stores one, all in one transaction: every
// one, at positions in their order, or, with an error (a *BatchError
// when one was refused), none. replaced[i] reports whether ns[i] replaced
// a live notification by its key. On PostgreSQL each run of posts without
// a key is one statement.
func (s *Store) CreateOrReplaceNotifications(ctx context.Context, ns []*models.Notification) (replaced []bool, err error) {
	replaced = make([]bool, len(ns))
	err = s.positionedTx(ctx, func(tx *gorm.DB) error {
		now := timestamp()
		for i := 0; i < len(ns); {
			if j := s.plainRun(ns, i); j > i {
				for _, n := range ns[i:j] {
					prepareInsert(n, now)
				}
				if err := s.insertNotifications(tx.Statement.Context, tx.Statement.ConnPool, ns[i:j]); err != nil {
					return &BatchError{Index: -1, Err: s.translate(err)}
				}
				i = j
				continue
			}
			r, err := s.createOrReplace(tx, ns[i], now)
			if err != nil {
				return &BatchError{Index: i, Err: s.translate(err)}
			}
			replaced[i] = r
			i++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create or replace %d notifications: %w", len(ns), err)
	}
	return replaced, nil
}

// plainRun is the end of the run of posts without a key that starts at
// ns[i], which one statement stores (PostgreSQL); i when there is none.
// SQLite stores a batch's posts one by one, so that a refusal names its
// item.
func (s *Store) plainRun(ns []*models.Notification, i int) int {
	if s.dialect != migrations.Postgres {
		return i
	}
	j := i
	for j < len(ns) && (ns[j].Key == nil || *ns[j].Key == "") {
		j++
	}
	return j
}

// translate turns a driver's error into GORM's (gorm.ErrForeignKeyViolated
// and the like), as GORM does for the statements it runs itself.
func (s *Store) translate(err error) error {
	if t, ok := s.db.Dialector.(gorm.ErrorTranslator); ok {
		err = t.Translate(err)
	}
	// GORM's SQLite dialector translates the cgo driver's errors only; the
	// pure-Go one's are told by their text, as duplicate does.
	if err != nil && !errors.Is(err, gorm.ErrForeignKeyViolated) && strings.Contains(err.Error(), "FOREIGN KEY constraint failed") {
		return fmt.Errorf("%w: %w", gorm.ErrForeignKeyViolated, err)
	}
	return err
}
