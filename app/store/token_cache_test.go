package store

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"beacon/app/models"
	"beacon/app/pgtest"
)

// Two instances on one PostgreSQL, both keeping checked tokens. A token
// revoked on one is refused there at once; the other keeps its check until
// it forgets (a broker wake-up calls ForgetTokens), then refuses it too.
// While an instance may not hear revocations, it reads every time.
func TestCachedTokensAreForgottenWhenRevoked(t *testing.T) {
	url := pgtest.URL(t)
	if url == "" {
		t.Skip("PostgreSQL not reachable")
	}
	ctx := context.Background()
	a, b := open(t, url), open(t, url)
	var bHears atomic.Bool
	bHears.Store(true)
	a.CacheTokens(func() bool { return true })
	b.CacheTokens(bHears.Load)
	u := user(t, a, "ops@example.com")
	must(a.CreateNamedAPIToken(ctx, u.ID, "ci", "hash-1"))
	must(a.CreateNamedAPIToken(ctx, u.ID, "deploy", "hash-2"))
	for _, s := range []*Store{a, b} {
		for _, h := range []string{"hash-1", "hash-2"} {
			if got := must(s.UserByTokenHash(ctx, h)); got.ID != u.ID {
				t.Fatalf("owner %+v", got)
			}
		}
	}
	queries := b.Queries()
	must(b.UserByTokenHash(ctx, "hash-1"))
	if b.Queries() != queries {
		t.Fatal("a token checked a moment ago was read again")
	}

	if _, err := a.DeleteAPITokenByHash(ctx, "hash-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.UserByTokenHash(ctx, "hash-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoked here, still accepted here: %v", err)
	}
	// b has not heard yet: this is what the broker's wake-up is for.
	must(b.UserByTokenHash(ctx, "hash-1"))
	b.ForgetTokens()
	if _, err := b.UserByTokenHash(ctx, "hash-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoked elsewhere and heard of, still accepted: %v", err)
	}

	// Not hearing revocations, b reads every time.
	must(b.UserByTokenHash(ctx, "hash-2"))
	bHears.Store(false)
	if _, err := a.RevokeAdmin(ctx, "ops@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.UserByTokenHash(ctx, "hash-2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a token of a demoted admin, checked while deaf: %v", err)
	}
}

// A lookup that began before a token was forgotten is not kept: it may
// have read the token just before its revocation committed.
func TestALookupOlderThanAForgetIsNotKept(t *testing.T) {
	var c tokenCache
	c.live, c.entries = func() bool { return true }, map[string]tokenEntry{}
	now := timestamp()
	_, ok, _, gen := c.cached("hash", now)
	if ok {
		t.Fatal("an empty cache had it")
	}
	c.mu.Lock()
	c.gen++ // ForgetTokens, while the lookup ran
	c.mu.Unlock()
	c.keep("hash", models.User{ID: 1, Email: "ops@example.com"}, now, gen)
	if _, ok, _, _ := c.cached("hash", now); ok {
		t.Fatal("kept a lookup begun before the forget")
	}
	_, _, _, gen = c.cached("hash", now)
	c.keep("hash", models.User{ID: 1, Email: "ops@example.com"}, now, gen)
	if _, ok, _, _ := c.cached("hash", now); !ok {
		t.Fatal("did not keep a lookup after the forget")
	}
	if _, ok, _, _ := c.cached("hash", now.Add(tokenUseResolution)); ok {
		t.Fatal("kept a check past tokenUseResolution")
	}
}

// Checks of a token that miss at once share one lookup: one read, one
// record of its use, not one of each per check.
func TestChecksThatMissAtOnceShareOneLookup(t *testing.T) {
	url := pgtest.URL(t)
	if url == "" {
		t.Skip("PostgreSQL not reachable")
	}
	ctx := context.Background()
	s := open(t, url)
	s.CacheTokens(func() bool { return true })
	u := user(t, s, "ops@example.com")
	must(s.CreateNamedAPIToken(ctx, u.ID, "ci", "hash-1"))
	before := s.Queries()
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			if got, err := s.UserByTokenHash(ctx, "hash-1"); err != nil || got.ID != u.ID {
				t.Errorf("check: %+v, %v", got, err)
			}
		})
	}
	wg.Wait()
	if got := s.Queries() - before; got != 2 {
		t.Fatalf("32 checks at once took %d statements, want 2: the read and the record of its use", got)
	}
}

// On SQLite `beacon token revoke` is another process, with no broker to
// reach the server: the server keeps checked tokens while the database's
// revocation number stays, reading that one row per check, and refuses a
// token at once when another process revoked it, or took its owner's
// admin rights. Other changes to the owner (a "mark all read") keep it.
func TestCachedTokensFollowRevocationsMadeByAnotherProcess(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "beacon.db")
	server, cli := open(t, file), open(t, file)
	server.CacheTokensByRevocations()
	u := user(t, cli, "ops@example.com")
	must(cli.CreateNamedAPIToken(ctx, u.ID, "ci", "hash-1"))
	must(cli.CreateNamedAPIToken(ctx, u.ID, "deploy", "hash-2"))
	for _, h := range []string{"hash-1", "hash-2"} {
		if got := must(server.UserByTokenHash(ctx, h)); got.ID != u.ID {
			t.Fatalf("owner %+v", got)
		}
	}
	checked := func(what string) {
		t.Helper()
		queries := server.Queries()
		must(server.UserByTokenHash(ctx, "hash-2"))
		if q := server.Queries() - queries; q != 1 {
			t.Fatalf("%s: a token checked a moment ago took %d statements, want 1 (the revocation number)", what, q)
		}
	}
	checked("at once")
	if err := cli.MarkAllRead(ctx, u.ID, 0); err != nil {
		t.Fatal(err)
	}
	checked("after the owner marked all read")

	if _, err := cli.DeleteAPITokenByHash(ctx, "hash-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := server.UserByTokenHash(ctx, "hash-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoked by another process, still accepted: %v", err)
	}
	must(server.UserByTokenHash(ctx, "hash-2")) // every token is read again once
	checked("after another token was revoked")
	if _, err := cli.RevokeAdmin(ctx, "ops@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := server.UserByTokenHash(ctx, "hash-2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a token of an admin demoted by another process, still accepted: %v", err)
	}
}
