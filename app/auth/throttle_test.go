package auth

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"beacon/app/store"
)

// clock is a test clock the throttle reads.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newThrottle(t *testing.T) (*LoginThrottle, *clock) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "beacon.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)}
	return NewLoginThrottle(st, c.now), c
}

func mustWait(t *testing.T, th *LoginThrottle, email, addr string) time.Duration {
	t.Helper()
	d, err := th.Wait(context.Background(), email, addr)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestThrottleByEmailThenExpires(t *testing.T) {
	ctx := context.Background()
	th, c := newThrottle(t)
	for i := range LoginAttempts {
		if d := mustWait(t, th, "a@example.com", "10.0.0.1"); d != 0 {
			t.Fatalf("attempt %d refused for %v", i+1, d)
		}
		// Each from another address: the email alone reaches the limit.
		if err := th.Fail(ctx, "a@example.com", "10.0.0."+string(rune('2'+i))); err != nil {
			t.Fatal(err)
		}
		c.t = c.t.Add(time.Minute)
	}
	d := mustWait(t, th, "a@example.com", "10.0.0.99")
	if want := LoginWindow - LoginAttempts*time.Minute; d != want {
		t.Fatalf("wait %v, want %v", d, want)
	}
	if d := mustWait(t, th, "b@example.com", "10.0.0.99"); d != 0 {
		t.Fatalf("another email from a fresh address waits %v", d)
	}
	c.t = c.t.Add(d)
	if d := mustWait(t, th, "a@example.com", "10.0.0.99"); d != 0 {
		t.Fatalf("still refused %v after the window", d)
	}
}

func TestThrottleByAddressSurvivesSuccess(t *testing.T) {
	ctx := context.Background()
	th, _ := newThrottle(t)
	for i := range LoginAttempts {
		email := string(rune('a'+i)) + "@example.com"
		if err := th.Fail(ctx, email, "192.0.2.7"); err != nil {
			t.Fatal(err)
		}
	}
	if err := th.Succeed(ctx, "a@example.com"); err != nil {
		t.Fatal(err)
	}
	if d := mustWait(t, th, "z@example.com", "192.0.2.7"); d != LoginWindow {
		t.Fatalf("address wait %v, want %v", d, LoginWindow)
	}
	if d := mustWait(t, th, "z@example.com", "192.0.2.8"); d != 0 {
		t.Fatalf("other address waits %v", d)
	}
}

func TestThrottleSuccessClearsEmail(t *testing.T) {
	ctx := context.Background()
	th, _ := newThrottle(t)
	for i := range LoginAttempts - 1 {
		if err := th.Fail(ctx, "a@example.com", "10.1.0."+string(rune('1'+i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := th.Succeed(ctx, "a@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := th.Fail(ctx, "a@example.com", "10.2.0.1"); err != nil {
		t.Fatal(err)
	}
	if d := mustWait(t, th, "a@example.com", "10.3.0.1"); d != 0 {
		t.Fatalf("waits %v after a good sign-in cleared the count", d)
	}
}
