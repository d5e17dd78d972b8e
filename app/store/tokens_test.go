package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"beacon/app/models"
)

// A token's use is recorded on its first call and then at most once per
// tokenUseResolution, not on every call.
func TestTokenUseIsRecordedOncePerResolution(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			u := user(t, s, "ops@example.com")
			tok := must(s.CreateNamedAPIToken(ctx, u.ID, "ci", "hash-1"))
			lastUsed := func() *time.Time {
				t.Helper()
				var got models.APIToken
				if err := s.db.WithContext(ctx).Take(&got, tok.ID).Error; err != nil {
					t.Fatal(err)
				}
				return got.LastUsedAt
			}
			if lastUsed() != nil {
				t.Fatal("used before any call")
			}
			if got := must(s.UserByTokenHash(ctx, "hash-1")); got.ID != u.ID || got.Email != u.Email {
				t.Fatalf("owner %+v, want %+v", got, u)
			}
			first := lastUsed()
			if first == nil || time.Since(*first) > time.Minute {
				t.Fatalf("last used %v after the first call", first)
			}
			must(s.UserByTokenHash(ctx, "hash-1"))
			if again := lastUsed(); again == nil || !again.Equal(*first) {
				t.Fatalf("last used %v after a second call at once, want %v kept", again, first)
			}
			// Older than the resolution: the next call records it again.
			old := first.Add(-2 * tokenUseResolution)
			if err := s.db.WithContext(ctx).Model(&models.APIToken{}).Where("id = ?", tok.ID).
				UpdateColumn("last_used_at", old).Error; err != nil {
				t.Fatal(err)
			}
			must(s.UserByTokenHash(ctx, "hash-1"))
			if now := lastUsed(); now == nil || !now.After(*first) {
				t.Fatalf("last used %v after a call past the resolution, want after %v", now, first)
			}
			if _, err := s.UserByTokenHash(ctx, "hash-2"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("unknown hash: %v, want ErrNotFound", err)
			}
		})
	}
}

// Taking admin rights away revokes the admin API tokens, not the person's
// own read tokens; the admin list and a person's list each show their own
// kind.
func TestRevokingAdminKeepsReadTokens(t *testing.T) {
	ctx := context.Background()
	for name, s := range OpenTestDatabases(t) {
		t.Run(name, func(t *testing.T) {
			u := user(t, s, "ops@example.com")
			must(s.CreateNamedAPIToken(ctx, u.ID, "ci", "hash-admin"))
			must(s.CreateReadToken(ctx, u.ID, "laptop", "hash-read"))
			if ts := must(s.APITokens(ctx, 0)); len(ts) != 1 || ts[0].Scope != models.TokenAdmin {
				t.Errorf("admin tokens: %+v", ts)
			}
			if ts := must(s.ReadTokens(ctx, u.ID)); len(ts) != 1 || ts[0].Name != "laptop" {
				t.Errorf("read tokens: %+v", ts)
			}
			must(s.RevokeAdmin(ctx, u.Email))
			if _, err := s.UserByTokenHash(ctx, "hash-admin"); !errors.Is(err, ErrNotFound) {
				t.Errorf("the admin token after revoking admin: %v", err)
			}
			if _, err := s.UserByTokenHash(ctx, "hash-read"); err != nil {
				t.Errorf("the read token after revoking admin: %v", err)
			}
			if err := s.DeleteReadToken(ctx, u.ID+1, must(s.ReadTokens(ctx, u.ID))[0].ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("someone else deleting the read token: %v", err)
			}
		})
	}
}
