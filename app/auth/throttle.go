package auth

import (
	"context"
	"fmt"
	"time"
)

// Sign-in throttling: after LoginAttempts failures for one email or one
// client address within LoginWindow, further attempts are refused until
// the oldest of those failures is older than the window.
const (
	LoginAttempts = 5
	LoginWindow   = 15 * time.Minute
)

// LoginFailures is where failed sign-ins are kept. It is the database, so
// the limit holds across instances and restarts.
type LoginFailures interface {
	AddLoginFailures(ctx context.Context, subjects []string, at time.Time) error
	NthLatestLoginFailure(ctx context.Context, subject string, n int, since time.Time) (time.Time, bool, error)
	DeleteLoginFailures(ctx context.Context, subject string) error
	DeleteLoginFailuresBefore(ctx context.Context, t time.Time) error
}

// LoginThrottle counts failed sign-ins per email and per client address.
type LoginThrottle struct {
	failures LoginFailures
	now      func() time.Time
}

// NewLoginThrottle returns a throttle over failures; now is the clock
// (time.Now when nil).
func NewLoginThrottle(failures LoginFailures, now func() time.Time) *LoginThrottle {
	if now == nil {
		now = time.Now
	}
	return &LoginThrottle{failures: failures, now: now}
}

func emailSubject(email string) string { return "email:" + email }
func addrSubject(addr string) string   { return "ip:" + addr }

// Wait reports how long the caller must wait before trying to sign in as
// email from addr: 0 when an attempt is allowed now.
func (t *LoginThrottle) Wait(ctx context.Context, email, addr string) (time.Duration, error) {
	now := t.now()
	var wait time.Duration
	for _, sub := range []string{emailSubject(email), addrSubject(addr)} {
		at, ok, err := t.failures.NthLatestLoginFailure(ctx, sub, LoginAttempts, now.Add(-LoginWindow))
		if err != nil {
			return 0, fmt.Errorf("login throttle: %w", err)
		}
		if ok {
			wait = max(wait, at.Add(LoginWindow).Sub(now))
		}
	}
	return wait, nil
}

// Fail records a failed attempt for email from addr, and forgets failures
// too old to matter.
func (t *LoginThrottle) Fail(ctx context.Context, email, addr string) error {
	now := t.now()
	if err := t.failures.AddLoginFailures(ctx, []string{emailSubject(email), addrSubject(addr)}, now); err != nil {
		return fmt.Errorf("login throttle: %w", err)
	}
	if err := t.failures.DeleteLoginFailuresBefore(ctx, now.Add(-LoginWindow)); err != nil {
		return fmt.Errorf("login throttle: %w", err)
	}
	return nil
}

// Succeed forgets email's failures. The address keeps its count: one good
// account must not reset guessing at others from the same place.
func (t *LoginThrottle) Succeed(ctx context.Context, email string) error {
	if err := t.failures.DeleteLoginFailures(ctx, emailSubject(email)); err != nil {
		return fmt.Errorf("login throttle: %w", err)
	}
	return nil
}
