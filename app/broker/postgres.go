package broker

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// The listener's timings. A check is a query on the listening connection
// itself: a connection that died without a word (a network partition)
// fails it, where waiting for a notification would wait forever.
const (
	checkEvery   = 5 * time.Second
	checkTimeout = 3 * time.Second
	// DeafAfter is how long an instance may go without hearing from its
	// listening connection before health checks report it deaf.
	DeafAfter = 30 * time.Second
	// Reconnects back off from minBackoff to maxBackoff, well inside
	// DeafAfter, so a short outage never shows as deaf.
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
	// A connection that lasted this long was a good one: the next
	// reconnect starts from minBackoff again.
	stableAfter = 30 * time.Second
	// maxPayload is PostgreSQL's limit on a NOTIFY payload, less one.
	maxPayload = 7999
	// notifyTimeout bounds one NOTIFY, which publishes may be waiting on.
	notifyTimeout = 5 * time.Second
)

// Execer runs one statement; *sql.DB is one.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Postgres is a broker over PostgreSQL LISTEN/NOTIFY: every instance on one
// database (and schema) hears every other's wake-ups. The NOTIFY payload is
// the topic alone, so a topic is any short string: those of topics.go.
//
// It listens on one connection of its own, opened with pgx and held for
// the instance's life, not taken from the store's pool. Run supervises it:
// a dropped connection is opened again with backoff, and once it LISTENs
// again every local subscriber is woken to re-read from its cursor, so what
// was committed meanwhile still arrives.
type Postgres struct {
	local
	config  *pgx.ConnConfig
	channel string
	db      Execer
	log     *slog.Logger

	// Tests shorten these.
	checkEvery, checkTimeout, deafAfter time.Duration

	mu         sync.Mutex
	connected  bool
	heard      time.Time // the last notification or passed check
	pid        uint32    // the listening connection's backend
	reconnects int64
	listened   bool                 // a connection has been up before
	notifiers  map[string]*notifier // by topic: see notifier
}

// Health is what the listener can say about itself.
type Health struct {
	Connected bool
	// Since is how long ago the listening connection last delivered a
	// notification or passed a check (or, before the first, since start).
	Since      time.Duration
	Deaf       bool // Since is past DeafAfter
	Reconnects int64
	PID        uint32 // backend process id of the listening connection; 0 when none
}

// NewPostgres returns a broker for the database at url that publishes
// through db (the store's pool). It connects when Run starts.
//
// The channel is "beacon", or "beacon:SCHEMA" when the URL sets a
// search_path: Beacons in separate schemas of one database are separate.
func NewPostgres(url string, db Execer, log *slog.Logger) (*Postgres, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("broker: parse database url: %w", err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	channel := "beacon"
	if sp := cfg.RuntimeParams["search_path"]; sp != "" {
		channel += ":" + sp
	}
	return &Postgres{
		local:        newLocal(),
		config:       cfg,
		channel:      channel,
		db:           db,
		log:          log,
		checkEvery:   checkEvery,
		checkTimeout: checkTimeout,
		deafAfter:    DeafAfter,
		heard:        time.Now(),
	}, nil
}

// Publish wakes topic's subscribers here at once, then on every instance
// through NOTIFY. Call it after what changed is committed.
func (p *Postgres) Publish(ctx context.Context, topic string) error {
	if len(topic) > maxPayload {
		return fmt.Errorf("broker: topic of %d bytes is over PostgreSQL's NOTIFY limit", len(topic))
	}
	p.wakeTopic(topic)
	return p.notifierOf(topic).notify(func() error {
		// Not the caller's cancel: the NOTIFY may cover other publishes
		// than this one, whose commits must be heard.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTimeout)
		defer cancel()
		if _, err := p.db.ExecContext(ctx, "SELECT pg_notify($1, $2)", p.channel, topic); err != nil {
			return fmt.Errorf("broker: notify %s: %w", topic, err)
		}
		return nil
	})
}

// notifierOf is topic's notifier, made at its first publish.
func (p *Postgres) notifierOf(topic string) *notifier {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.notifiers[topic]
	if n == nil {
		n = &notifier{}
		if p.notifiers == nil {
			p.notifiers = make(map[string]*notifier)
		}
		p.notifiers[topic] = n
	}
	return n
}

// Health reports the listener's state.
func (p *Postgres) Health() Health {
	p.mu.Lock()
	defer p.mu.Unlock()
	since := time.Since(p.heard)
	return Health{
		Connected:  p.connected,
		Since:      since,
		Deaf:       since > p.deafAfter,
		Reconnects: p.reconnects,
		PID:        p.pid,
	}
}

// Run listens until ctx ends, reconnecting whenever the connection drops.
// It returns nil when ctx ends and never otherwise: an outage is logged and
// shown by Health, and the instance keeps serving what it has.
func (p *Postgres) Run(ctx context.Context) error {
	backoff := minBackoff
	for {
		started := time.Now()
		err := p.listen(ctx)
		p.setConnected(false, 0)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(started) > stableAfter {
			backoff = minBackoff
		}
		// Half fixed, half random: instances that lost the database
		// together do not all come back in the same instant.
		wait := backoff/2 + rand.N(backoff/2+1)
		p.log.Warn("broker: listener lost, reconnecting", "err", err, "in", wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// listen connects, LISTENs, wakes every subscriber, then delivers
// notifications until the connection fails or ctx ends.
func (p *Postgres) listen(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, p.config)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{p.channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if p.setConnected(true, conn.PgConn().PID()) {
		p.log.Info("broker: listener reconnected", "channel", p.channel)
	}
	// Whatever was committed while nobody listened is read now: each
	// subscriber looks again from its own cursor.
	p.wakeAll()
	for {
		waitCtx, cancel := context.WithTimeout(ctx, p.checkEvery)
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case err == nil:
			p.heardNow()
			p.wakeTopic(n.Payload)
			continue
		case ctx.Err() != nil:
			return nil
		case !errors.Is(err, context.DeadlineExceeded):
			return fmt.Errorf("wait for notification: %w", err)
		}
		checkCtx, cancel := context.WithTimeout(ctx, p.checkTimeout)
		_, err = conn.Exec(checkCtx, "SELECT 1")
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("liveness check: %w", err)
		}
		p.heardNow()
	}
}

// setConnected records the listener's state and reports whether this
// connection is a reconnect: one after an earlier connection was up.
func (p *Postgres) setConnected(c bool, pid uint32) (again bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.connected, p.pid = c, pid
	if c {
		p.heard = time.Now()
		again = p.listened
		p.listened = true
		if again {
			p.reconnects++
		}
	}
	return again
}

func (p *Postgres) heardNow() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.heard = time.Now()
}
