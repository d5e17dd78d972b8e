package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"beacon/app/models"
)

// sqliteInsertChunk bounds how many posts one statement of
// insertSQLiteNotifications stores: nine parameters each, well under
// SQLite's 32,766.
const sqliteInsertChunk = 500

// insertSQLiteNotifications stores ns, prepared (prepareInsert) and
// without keys, in one statement per chunk, at the positions after the
// sequence's, and places each at its position: as the PostgreSQL
// statement does, and for the same reason. Per post, taking the position
// and inserting were two statements, each prepared and run through GORM,
// inside a savepoint of their own: on SQLite, in the writer that every
// post waits for, about half of Beacon's CPU at 64 concurrent posters.
// The caller holds the writer, in a transaction; the explicit ids, above
// the sequence, move it on (AUTOINCREMENT).
func (s *Store) insertSQLiteNotifications(ctx context.Context, q queryer, ns []*models.Notification) error {
	for chunk := range slices.Chunk(ns, sqliteInsertChunk) {
		if err := s.insertSQLiteChunk(ctx, q, chunk); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) insertSQLiteChunk(ctx context.Context, q queryer, ns []*models.Notification) error {
	var b strings.Builder
	args := make([]any, 0, 9*len(ns))
	b.WriteString("WITH v (i, title, body, level, url, recipient_id, audience_id, deliver_at, scheduled, created_at) AS (VALUES ")
	for i, n := range ns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(")
		b.WriteString(strconv.Itoa(i + 1))
		b.WriteString(", ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		var due any
		if n.DeliverAt != nil {
			due = *n.DeliverAt
		}
		args = append(args, n.Title, n.Body, n.Level, n.URL, n.RecipientID, n.AudienceID, due, n.Scheduled, n.CreatedAt)
	}
	b.WriteString(`), s (seq) AS (SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = 'notifications')
INSERT INTO notifications (id, position, first_position, title, body, level, url, recipient_id, audience_id, deliver_at, scheduled, created_at, updated_at)
SELECT s.seq + v.i, s.seq + v.i, CASE WHEN v.scheduled THEN 0 ELSE s.seq + v.i END, v.title, v.body, v.level, v.url,
	v.recipient_id, v.audience_id, v.deliver_at, v.scheduled, v.created_at, v.created_at
FROM s, v ORDER BY v.i`)
	s.queries.n.Add(1)
	res, err := q.ExecContext(ctx, b.String(), args...)
	if err != nil {
		return err
	}
	// The rows' ids are consecutive, in the order of ns: the last is the
	// statement's last insert.
	last, err := res.LastInsertId()
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != int64(len(ns)) {
		return fmt.Errorf("insert notifications: %d rows stored of %d (%v)", n, len(ns), err)
	}
	for i, n := range ns {
		placeAt(n, last-int64(len(ns)-1-i))
	}
	return nil
}

// runSQLiteGroup runs g in one transaction and sets g.errs; those already
// set (their callers gave up) are skipped. The plain posts go in one
// statement first (insertSQLiteNotifications), each other transaction in
// a savepoint, so that its error undoes its work alone. When SQLite
// refuses the statement of plain posts (one names a recipient deleted
// since it was checked, say), the statement's changes are undone and each
// post runs in its savepoint, so that the one refused fails alone.
func (s *Store) runSQLiteGroup(ctx context.Context, g *groupRun) {
	inserts, _ := g.split(timestamp())
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		inserted := false
		if len(inserts) > 0 {
			err := s.insertSQLiteNotifications(ctx, tx.Statement.ConnPool, inserts)
			if err != nil && !refusal(s.translate(err)) {
				return err
			}
			inserted = err == nil
		}
		for i, t := range g.ts {
			if g.errs[i] != nil || inserted && t.insert != nil {
				continue
			}
			// Nested: a savepoint, so that t's error undoes t's work alone.
			// (translate: GORM leaves the pure-Go driver's errors as they
			// are, and a refusal would have failed the group.)
			if g.errs[i] = s.translate(tx.Transaction(t.fn)); g.errs[i] != nil && !refusal(g.errs[i]) {
				// A failure of the database itself (a full disk, an I/O
				// error) may have rolled the whole transaction back, and
				// savepoints after it would commit on their own: fail the
				// group, so nobody hears of a commit that did not happen.
				return g.errs[i]
			}
		}
		return nil
	})
	if err != nil {
		for i := range g.errs {
			g.errs[i] = err
		}
	}
}
