// Package limits caps the long-lived connections (streams, long polls,
// chat sockets) one signed-in user or one visitor's address may hold, on
// this instance and, when instances share PostgreSQL, across all of them.
package limits

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultRefresh is how often an instance publishes its counts and reads
// the others'.
const DefaultRefresh = 3 * time.Second

// Shared is where instances on one database publish their counts. Nil on
// SQLite, where there is one instance and its own counts are the truth.
type Shared interface {
	PublishConnectionCounts(ctx context.Context, instance string, changed map[string]int, expires time.Time) error
	OtherConnectionCounts(ctx context.Context, instance string) (map[string]int, error)
	ForgetConnectionCounts(ctx context.Context, instance string) error
}

// Options are the limits; 0 turns one off.
type Options struct {
	PerUser    int           // STREAM_LIMIT_USER
	PerAddress int           // STREAM_LIMIT_ADDRESS, for visitors
	Refresh    time.Duration // DefaultRefresh when zero
}

// Limiter counts the connections each subject holds.
//
// Across instances, the check adds the other instances' counts as last
// read. Each instance publishes every Refresh and reads every Refresh, so
// another instance's count may be up to two Refresh periods old (6 s by
// default): within that window a client may go over its limit by what it
// opened elsewhere meanwhile. An instance that dies without a goodbye is
// counted until its row expires, 3 Refresh periods after it last wrote.
// Expiry compares one instance's clock with another's, so their clocks
// must agree to within a few seconds (NTP does).
type Limiter struct {
	opts     Options
	shared   Shared
	instance string
	log      *slog.Logger

	mu        sync.Mutex
	local     map[string]int // this instance's connections per subject
	remote    map[string]int // the other instances', as last read
	published map[string]int // what the shared table holds of local
}

// New returns a limiter; shared may be nil.
func New(opts Options, shared Shared, log *slog.Logger) *Limiter {
	if opts.Refresh <= 0 {
		opts.Refresh = DefaultRefresh
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id) // never fails (crypto/rand)
	return &Limiter{
		opts: opts, shared: shared, instance: hex.EncodeToString(id), log: log,
		local: map[string]int{}, remote: map[string]int{}, published: map[string]int{},
	}
}

// Lease is one admitted connection's place. Release gives it back; it may
// be called more than once.
type Lease struct {
	once    sync.Once
	release func()
	held    atomic.Bool
}

// Release gives the place back.
func (l *Lease) Release() {
	if l != nil && l.release != nil {
		l.once.Do(l.release)
	}
}

// ReleaseUnlessHeld releases the lease unless Hold took it over: what the
// middleware that acquired it does when the handler returns.
func (l *Lease) ReleaseUnlessHeld() {
	if l != nil && !l.held.Load() {
		l.Release()
	}
}

type leaseKey struct{}

// WithLease carries the request's lease in its context, for Hold.
func WithLease(ctx context.Context, l *Lease) context.Context {
	return context.WithValue(ctx, leaseKey{}, l)
}

// Hold takes over the lease of the request behind ctx: a connection that
// outlives its handler (a hijacked one) calls Release itself when it ends,
// and the middleware no longer does. Nil when the request has none.
func Hold(ctx context.Context) *Lease {
	l, _ := ctx.Value(leaseKey{}).(*Lease)
	if l != nil {
		l.held.Store(true)
	}
	return l
}

// Acquire admits one more connection for the signed-in user userID, or,
// when userID is 0, for a visitor from addr. ok is false when the subject
// is at its limit; then the caller refuses the connection.
func (l *Limiter) Acquire(userID int64, addr string) (lease *Lease, ok bool) {
	subject, limit := "addr:"+addr, l.opts.PerAddress
	if userID != 0 {
		subject, limit = "user:"+strconv.FormatInt(userID, 10), l.opts.PerUser
	}
	if limit <= 0 {
		return &Lease{}, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.local[subject]+l.remote[subject] >= limit {
		return nil, false
	}
	l.local[subject]++
	return &Lease{release: func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.local[subject]--; l.local[subject] <= 0 {
			delete(l.local, subject)
		}
	}}, true
}

// Run shares the counts with the other instances until ctx ends, then
// withdraws this instance's. Without a shared table it only waits.
func (l *Limiter) Run(ctx context.Context) error {
	if l.shared == nil {
		<-ctx.Done()
		return nil
	}
	tick := time.NewTicker(l.opts.Refresh)
	defer tick.Stop()
	for {
		l.sync(ctx)
		select {
		case <-ctx.Done():
			bye, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			if err := l.shared.ForgetConnectionCounts(bye, l.instance); err != nil {
				l.log.Warn("connection limits", "err", err)
			}
			return nil
		case <-tick.C:
		}
	}
}

// sync publishes what changed locally and reads the others' counts. A
// failure keeps the last figures and is tried again at the next tick.
func (l *Limiter) sync(ctx context.Context) {
	l.mu.Lock()
	changed := map[string]int{}
	for s, n := range l.local {
		if l.published[s] != n {
			changed[s] = n
		}
	}
	for s := range l.published {
		if _, ok := l.local[s]; !ok {
			changed[s] = 0
		}
	}
	l.mu.Unlock()

	if err := l.shared.PublishConnectionCounts(ctx, l.instance, changed, time.Now().Add(3*l.opts.Refresh)); err != nil {
		if ctx.Err() == nil {
			l.log.Warn("connection limits", "err", err)
		}
		return
	}
	l.mu.Lock()
	for s, n := range changed {
		if n == 0 {
			delete(l.published, s)
		} else {
			l.published[s] = n
		}
	}
	l.mu.Unlock()

	others, err := l.shared.OtherConnectionCounts(ctx, l.instance)
	if err != nil {
		if ctx.Err() == nil {
			l.log.Warn("connection limits", "err", err)
		}
		return
	}
	l.mu.Lock()
	l.remote = others
	l.mu.Unlock()
}
