package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"gorm.io/gorm"

	"beacon/app/models"
	"beacon/migrations"
)

// insertNotificationsSQL stores a group's plain posts in one statement
// that also takes notificationsLock (%s: waiting for it, or only trying)
// and their positions, and, sent on its own, commits them: one round trip
// holds the lock. The lock is taken before any nextval runs (the
// materialized CTEs are read in order), and the i-th post gets the i-th
// smallest position, so the caller needs nothing back but the positions.
// When only trying, and the lock is taken, it stores nothing and takes no
// position.
//
// Each parameter that shapes the plan ($2 to $11) is read through a scalar
// subquery, which hides its value from the planner: PostgreSQL then estimates a plan made for the values
// (a custom plan) as it does one made for any (the generic plan), and
// after five executions on a connection keeps the generic one. Seeing the
// arrays' lengths, it planned the statement afresh at every execution,
// about 180 µs of its CPU, more than running it takes for a small group
// (TestInsertStatementIsPlannedOnce).
const insertNotificationsSQL = `WITH locked AS MATERIALIZED (%s),
taken AS MATERIALIZED (
	SELECT nextval(pg_get_serial_sequence('notifications', 'id')) AS pos FROM locked, generate_series(1, (SELECT $2::int)) WHERE locked.got),
numbered AS (SELECT pos, row_number() OVER (ORDER BY pos) AS i FROM taken)
INSERT INTO notifications (id, position, first_position, title, body, level, url, recipient_id, audience_id, deliver_at, scheduled, created_at, updated_at)
SELECT n.pos, n.pos, CASE WHEN t.scheduled THEN 0 ELSE n.pos END, t.title, t.body, t.level, t.url, t.recipient_id,
	t.audience_id, t.deliver_at, t.scheduled, t.created_at, t.created_at
FROM numbered n JOIN unnest((SELECT $3::text[]), (SELECT $4::text[]), (SELECT $5::text[]), (SELECT $6::bigint[]),
	(SELECT $7::bigint[]), (SELECT $8::timestamptz[]), (SELECT $9::boolean[]), (SELECT $10::timestamptz[]), (SELECT $11::text[]))
	WITH ORDINALITY AS t(title, body, level, recipient_id, audience_id, deliver_at, scheduled, created_at, url, i) USING (i)
RETURNING id`

var (
	insertWaitingSQL = fmt.Sprintf(insertNotificationsSQL, "SELECT true AS got FROM (SELECT pg_advisory_xact_lock($1)) AS l")
	insertTryingSQL  = fmt.Sprintf(insertNotificationsSQL, "SELECT pg_try_advisory_xact_lock($1) AS got")
)

// queryer runs statements: the pool, or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// insertNotifications stores ns, prepared (prepareInsert) and without
// keys, under notificationsLock (on SQLite, as the writer), and places
// each at its position.
func (s *Store) insertNotifications(ctx context.Context, q queryer, ns []*models.Notification) error {
	if s.dialect == migrations.SQLite {
		return s.insertSQLiteNotifications(ctx, q, ns)
	}
	_, err := s.insertUnderLock(ctx, q, ns, insertWaitingSQL)
	return err
}

// insertUnderLock is insertNotifications with the statement to send, and
// reports whether it stored ns: not when it only tried for a lock taken.
func (s *Store) insertUnderLock(ctx context.Context, q queryer, ns []*models.Notification, statement string) (stored bool, err error) {
	titles, bodies, levels := make([]string, len(ns)), make([]string, len(ns)), make([]string, len(ns))
	recipients, audiences := make([]pgtype.Int8, len(ns)), make([]pgtype.Int8, len(ns))
	due := make([]pgtype.Timestamptz, len(ns))
	scheduled := make([]bool, len(ns))
	created := make([]time.Time, len(ns))
	urls := make([]pgtype.Text, len(ns))
	for i, n := range ns {
		if n.URL != nil {
			urls[i] = pgtype.Text{String: *n.URL, Valid: true}
		}
		titles[i], bodies[i], levels[i] = n.Title, n.Body, n.Level
		if n.RecipientID != nil {
			recipients[i] = pgtype.Int8{Int64: *n.RecipientID, Valid: true}
		}
		if n.AudienceID != nil {
			audiences[i] = pgtype.Int8{Int64: *n.AudienceID, Valid: true}
		}
		if n.DeliverAt != nil {
			due[i] = pgtype.Timestamptz{Time: *n.DeliverAt, Valid: true}
		}
		scheduled[i], created[i] = n.Scheduled, n.CreatedAt
	}
	s.queries.n.Add(1)
	rows, err := q.QueryContext(ctx, statement, int64(notificationsLock), len(ns),
		titles, bodies, levels, recipients, audiences, due, scheduled, created, urls)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	positions := make([]int64, 0, len(ns))
	for rows.Next() {
		var pos int64
		if err := rows.Scan(&pos); err != nil {
			return false, err
		}
		positions = append(positions, pos)
	}
	if err := rows.Err(); err != nil {
		return false, err
	}
	if len(positions) == 0 && statement == insertTryingSQL {
		return false, nil
	}
	if len(positions) != len(ns) {
		return false, fmt.Errorf("insert notifications: %d rows stored of %d", len(positions), len(ns))
	}
	slices.Sort(positions)
	for i, n := range ns {
		placeAt(n, positions[i])
	}
	return true, nil
}

// runPostgresGroup runs g under notificationsLock in one transaction and
// sets g.errs; those already set (their callers gave up) are skipped. The
// plain posts go in one statement first (insertNotifications), each other
// transaction in a savepoint of its own, so that its error undoes its
// work alone.
//
// A group of plain posts only first tries that one statement with the
// lock free. When another instance holds it, the group waits for it in a
// transaction and, once it has it, takes in every post that came
// meanwhile: the lock passes from instance to instance once per group,
// with a commit's flush each time, so a group must carry all that waits.
//
// When the database refuses the statement of plain posts (one names a
// recipient deleted since it was checked, say), the group runs again with
// each post in its savepoint, so that the one refused fails alone. The
// positions the first try took are never used: a hole, which no commit
// fills later.
func (s *Store) runPostgresGroup(ctx context.Context, g *groupRun) {
	inserts, others := g.split(timestamp())
	if len(inserts) == 0 && others == 0 {
		return
	}
	var refused error // the statement of plain posts failed: retry one by one
	var err error
	stored := false
	if others == 0 {
		stored, err = s.insertUnderLock(ctx, s.sqlDB, inserts, insertTryingSQL)
		if err != nil {
			refused = err
		}
	}
	if !stored && refused == nil && err == nil {
		err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", int64(notificationsLock)).Error; err != nil {
				return err
			}
			if others == 0 {
				g.add(s.group.take()) // what came while the lock was taken
				inserts, others = g.split(timestamp())
			}
			if len(inserts) > 0 {
				if err := s.insertNotifications(ctx, tx.Statement.ConnPool, inserts); err != nil {
					refused = err
					return err
				}
			}
			return s.runEach(tx, g.ts, g.errs, false, len(inserts) > 0)
		})
	}
	var pgErr *pgconn.PgError
	if refused != nil && errors.As(refused, &pgErr) {
		err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", int64(notificationsLock)).Error; err != nil {
				return err
			}
			return s.runEach(tx, g.ts, g.errs, true, false)
		})
	}
	if err != nil {
		for i := range g.errs {
			if g.errs[i] == nil {
				g.errs[i] = err
			}
		}
	}
}

// split prepares, at now, the plain posts of g still to run, and counts
// its other transactions.
func (g *groupRun) split(now time.Time) (inserts []*models.Notification, others int) {
	for i, t := range g.ts {
		switch {
		case g.errs[i] != nil:
		case t.insert != nil:
			prepareInsert(t.insert, now)
			inserts = append(inserts, t.insert)
		default:
			others++
		}
	}
	return inserts, others
}

// runEach runs, in tx, the transactions of ts not yet answered in errs,
// and the plain posts too when all is set. Each runs in a savepoint,
// unless it is the only work of tx (nothing inserted before it): then its
// error rolls tx back, and is returned.
func (s *Store) runEach(tx *gorm.DB, ts []*groupTx, errs []error, all, inserted bool) error {
	var run []int
	for i, t := range ts {
		if errs[i] == nil && (all || t.insert == nil) {
			run = append(run, i)
		}
	}
	if len(run) == 1 && !inserted {
		i := run[0]
		errs[i] = ts[i].fn(tx)
		return errs[i]
	}
	for _, i := range run {
		// Nested: a savepoint, so that the error undoes this one's work
		// alone. A failure of the connection fails the commit, and with
		// it everyone.
		errs[i] = tx.Transaction(ts[i].fn)
	}
	return nil
}
