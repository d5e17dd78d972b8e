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
// Only the instances can keep it, on PostgreSQL: a revocation anywhere
// (this instance, another, `beacon token revoke`) is published on
// broker.TokensTopic, and every instance's broker calls ForgetTokens. On
// SQLite a revocation may come from the CLI, another process with no
// broker to reach this one, so SQLite reads every time.
type tokenCache struct {
	mu sync.Mutex
	// live reports whether revocations are heard right now (the
	// listener is connected); nil: the cache is off. While it says no,
	// every check reads the database.
	live    func() bool
	gen     uint64 // moved on by every forget: a lookup begun before one is not kept
	entries map[string]tokenEntry
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
