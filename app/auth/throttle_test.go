package auth

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
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

// begin starts an attempt and returns it, or how long it must wait.
func begin(t *testing.T, th *LoginThrottle, email, addr string) (*LoginAttempt, time.Duration) {
	t.Helper()
	return beginFrom(t, th, email, addr, "")
}

// beginFrom is begin from the device with this nonce.
func beginFrom(t *testing.T, th *LoginThrottle, email, addr, device string) (*LoginAttempt, time.Duration) {
	t.Helper()
	a, d, err := th.Begin(context.Background(), email, addr, device)
	if err != nil {
		t.Fatal(err)
	}
	if (a == nil) == (d == 0) {
		t.Fatalf("Begin returned attempt %v and wait %v: exactly one must be set", a, d)
	}
	return a, d
}

func TestThrottleByEmailThenExpires(t *testing.T) {
	th, c := newThrottle(t)
	for i := range LoginAttempts {
		// Each from another address: the email alone reaches the limit.
		if _, d := begin(t, th, "a@example.com", fmt.Sprintf("10.0.0.%d", i)); d != 0 {
			t.Fatalf("attempt %d refused for %v", i+1, d)
		}
		c.t = c.t.Add(time.Minute)
	}
	_, d := begin(t, th, "a@example.com", "10.0.0.99")
	if want := LoginWindow - LoginAttempts*time.Minute; d != want {
		t.Fatalf("wait %v, want %v", d, want)
	}
	if _, d := begin(t, th, "b@example.com", "10.0.0.98"); d != 0 {
		t.Fatalf("another email from a fresh address waits %v", d)
	}
	c.t = c.t.Add(d)
	if _, d := begin(t, th, "a@example.com", "10.0.0.97"); d != 0 {
		t.Fatalf("still refused %v after the window", d)
	}
}

func TestThrottleByAddressSurvivesSuccess(t *testing.T) {
	ctx := context.Background()
	th, _ := newThrottle(t)
	for i := range LoginAttempts - 1 {
		begin(t, th, fmt.Sprintf("%c@example.com", 'a'+i), "192.0.2.7")
	}
	good, _ := begin(t, th, "good@example.com", "192.0.2.7")
	if err := good.Succeed(ctx); err != nil {
		t.Fatal(err)
	}
	// The success is not counted, the four failures still are.
	if _, d := begin(t, th, "y@example.com", "192.0.2.7"); d != 0 {
		t.Fatalf("fifth attempt refused for %v", d)
	}
	if _, d := begin(t, th, "z@example.com", "192.0.2.7"); d != LoginWindow {
		t.Fatalf("address wait %v, want %v", d, LoginWindow)
	}
	if _, d := begin(t, th, "z@example.com", "192.0.2.8"); d != 0 {
		t.Fatalf("other address waits %v", d)
	}
}

func TestThrottleSuccessClearsEmail(t *testing.T) {
	th, _ := newThrottle(t)
	for i := range LoginAttempts - 1 {
		begin(t, th, "a@example.com", fmt.Sprintf("10.1.0.%d", i))
	}
	good, _ := begin(t, th, "a@example.com", "10.1.1.1")
	if err := good.Succeed(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := range LoginAttempts {
		if _, d := begin(t, th, "a@example.com", fmt.Sprintf("10.2.0.%d", i)); d != 0 {
			t.Fatalf("attempt %d after a good sign-in waits %v", i+1, d)
		}
	}
}

// A burst of concurrent attempts gets exactly the limit through: each is
// counted before its password is checked.
func TestThrottleHoldsUnderConcurrentAttempts(t *testing.T) {
	th, _ := newThrottle(t)
	var passed atomic.Int64
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() {
			a, _, err := th.Begin(context.Background(), "a@example.com", "10.9.9.9", "")
			if err != nil {
				t.Error(err)
			}
			if a != nil {
				passed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := passed.Load(); n != LoginAttempts {
		t.Fatalf("%d of 30 concurrent attempts passed, want %d", n, LoginAttempts)
	}
}

// A device's failures count against it alone, and only they refuse it.
func TestThrottleByDevice(t *testing.T) {
	th, _ := newThrottle(t)
	for i := range LoginAttempts {
		begin(t, th, "a@example.com", fmt.Sprintf("10.3.0.%d", i))
	}
	if _, d := begin(t, th, "a@example.com", "10.3.1.1"); d == 0 {
		t.Fatal("the account is not limited without a device")
	}
	if _, d := beginFrom(t, th, "a@example.com", "10.3.0.1", "owner"); d != 0 {
		t.Fatalf("the owner's device waits %v behind others' failures", d)
	}
	for range LoginAttempts {
		beginFrom(t, th, "b@example.com", "10.4.0.1", "lost")
	}
	if _, d := beginFrom(t, th, "b@example.com", "10.4.0.1", "lost"); d != LoginWindow {
		t.Fatalf("the device's own limit: wait %v, want %v", d, LoginWindow)
	}
	if _, d := begin(t, th, "b@example.com", "10.4.0.2"); d != 0 {
		t.Fatalf("a device's failures counted against the account: wait %v", d)
	}
	if _, d := begin(t, th, "c@example.com", "10.4.0.1"); d != 0 {
		t.Fatalf("a device's failures counted against the address: wait %v", d)
	}
}
