package store

import (
	"context"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"beacon/app/models"
)

// tokenCache keeps the owners of the API tokens checked in the last
// tokenUseResolution, so that a bearer check is not a database round trip
// per request: at 64 concurrent posters on PostgreSQL the lookup took a
// quarter of an instance's CPU, and a round trip of every post.
//
// It must hear of every revocation. On PostgreSQL a revocation anywhere
// (this instance, another, `beacon token revoke`) is published on
// broker.TokensTopic, and every instance's broker calls ForgetTokens. On
// SQLite a revocation may come from the CLI, another process with no
// broker to reach this one: there each check reads the database's
// revocation number (migration 00026's token_revocations, which triggers
// move on), one row instead of the token and its user, and forgets every
// token when it moved (CacheTokensByRevocations).
type tokenCache struct {
	mu sync.Mutex
	// live reports whether revocations are heard right now (the
	// listener is connected); nil: the cache is off. While it says no,
	// every check reads the database.
	live    func() bool
	gen     uint64 // moved on by every forget: a lookup begun before one is not kept
	entries map[string]tokenEntry
	// byRevocations says that each check reads token_revocations first;
	// revocations is the number the entries were checked under.
	byRevocations bool
	revocations   int64
	// lookups shares one database lookup among the checks of a token that
	// miss at once (64 posters starting together, or a minute passing), by
	// hash and generation: each was a SELECT and an UPDATE of last use,
	// and the UPDATEs queued on the token's row, a commit each.
	lookups singleflight.Group
}

type tokenEntry struct {
	user    models.User
	checked time.Time
}

// CacheTokens keeps the owners of checked API tokens in memory for up to
// a minute; live reports whether this instance hears every revocation
// now. Call it only where every revocation calls ForgetTokens (see
// tokenCache).
func (s *Store) CacheTokens(live func() bool) {
	s.tokens.mu.Lock()
	defer s.tokens.mu.Unlock()
	s.tokens.live = live
	s.tokens.entries = make(map[string]tokenEntry)
}

// CacheTokensByRevocations keeps the owners of checked API tokens in
// memory for up to a minute, while the database's revocation number stays
// where it was: for SQLite, whose revocations another process may make.
func (s *Store) CacheTokensByRevocations() {
	s.tokens.mu.Lock()
	defer s.tokens.mu.Unlock()
	s.tokens.live = func() bool { return true }
	s.tokens.entries = make(map[string]tokenEntry)
	s.tokens.byRevocations, s.tokens.revocations = true, -1
}

// followRevocations reads the database's revocation number, when the cache
// goes by it, and forgets every token when it moved. It reports false when
// the number could not be read: then the token must be read too.
func (s *Store) followRevocations(ctx context.Context) bool {
	s.tokens.mu.Lock()
	by := s.tokens.byRevocations
	s.tokens.mu.Unlock()
	if !by {
		return true
	}
	var n int64
	s.queries.n.Add(1)
	if err := s.sqlDB.QueryRowContext(ctx, "SELECT generation FROM token_revocations").Scan(&n); err != nil {
		return false
	}
	s.tokens.mu.Lock()
	defer s.tokens.mu.Unlock()
	if n != s.tokens.revocations {
		s.tokens.gen++
		clear(s.tokens.entries)
		s.tokens.revocations = n
	}
	return true
}

// ForgetTokens drops every cached token: one was revoked somewhere.
func (s *Store) ForgetTokens() {
	s.tokens.mu.Lock()
	defer s.tokens.mu.Unlock()
	s.tokens.gen++
	clear(s.tokens.entries)
}

// lookupToken is the owner of the token with this hash from the database,
// shared with the checks of it that missed at once in generation gen.
func (s *Store) lookupToken(ctx context.Context, hash string, now time.Time, gen uint64) (models.User, error) {
	v, err, _ := s.tokens.lookups.Do(hash+" "+strconv.FormatUint(gen, 10), func() (any, error) {
		// Not the first caller's cancel: the others wait on it.
		u, err := s.userByTokenHash(context.WithoutCancel(ctx), hash, now)
		if err == nil {
			s.tokens.keep(hash, u, now, gen)
		}
		return u, err
	})
	if err != nil {
		return models.User{}, err
	}
	return v.(models.User), nil
}

// cached is the owner of the token with this hash when it was checked
// within tokenUseResolution of now, and the generation to keep a new
// lookup under; on is false when nothing is cached at all.
func (c *tokenCache) cached(hash string, now time.Time) (u models.User, ok, on bool, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.live == nil {
		return models.User{}, false, false, c.gen
	}
	e, ok := c.entries[hash]
	if !ok || now.Sub(e.checked) >= tokenUseResolution || !c.live() {
		return models.User{}, false, true, c.gen
	}
	return e.user, true, true, c.gen
}

// keep records a lookup made at now, unless a token was forgotten since
// it began (generation gen): it may have read the token just before its
// revocation committed.
func (c *tokenCache) keep(hash string, u models.User, now time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.live == nil || gen != c.gen {
		return
	}
	c.entries[hash] = tokenEntry{user: u, checked: now}
}
