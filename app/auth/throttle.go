package auth

import (
	"context"
	"fmt"
	"time"
)

// Sign-in throttling: after LoginAttempts failures for one email or one
// client address within LoginWindow, further attempts are refused until
// the oldest of those failures is older than the window. An attempt from a
// browser with a device cookie for the account counts against that device
// alone, and only that device's failures can refuse it.
const (
	LoginAttempts = 5
	LoginWindow   = 15 * time.Minute
)

// LoginFailures is where failed sign-ins are kept. It is the database, so
// the limit holds across instances and restarts.
type LoginFailures interface {
	BeginLoginAttempt(ctx context.Context, subjects []string, limit int, since, at time.Time) ([]int64, time.Time, error)
	DeleteLoginAttempt(ctx context.Context, ids []int64) error
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

func emailSubject(email string) string  { return "email:" + email }
func addrSubject(addr string) string    { return "ip:" + addr }
func deviceSubject(nonce string) string { return "device:" + nonce }

// LoginAttempt is a sign-in whose password is being checked. It counts as
// a failure from the start, so that a burst of concurrent guesses cannot
// all pass the limit while their passwords are checked; Succeed takes it
// back.
type LoginAttempt struct {
	t       *LoginThrottle
	subject string // whose failures a success forgets
	ids     []int64
}

// Begin starts an attempt to sign in as email from addr, or from the
// device with this nonce ("" for none: see Devices). When wait > 0 the
// attempt is refused (and nothing is recorded): the caller must not check
// the password, and may say to retry after wait.
func (t *LoginThrottle) Begin(ctx context.Context, email, addr, device string) (*LoginAttempt, time.Duration, error) {
	now := t.now()
	since := now.Add(-LoginWindow)
	if err := t.failures.DeleteLoginFailuresBefore(ctx, since); err != nil {
		return nil, 0, fmt.Errorf("login throttle: %w", err)
	}
	subjects := []string{emailSubject(email), addrSubject(addr)}
	if device != "" {
		subjects = []string{deviceSubject(device)}
	}
	ids, blockedAt, err := t.failures.BeginLoginAttempt(ctx, subjects, LoginAttempts, since, now)
	if err != nil {
		return nil, 0, fmt.Errorf("login throttle: %w", err)
	}
	if !blockedAt.IsZero() {
		return nil, max(time.Millisecond, blockedAt.Add(LoginWindow).Sub(now)), nil
	}
	return &LoginAttempt{t: t, subject: subjects[0], ids: ids}, 0, nil
}

// Succeed takes the attempt back and forgets the email's failures (or the
// device's, for an attempt from one: then the email's stay, so that whoever
// else was guessing stays limited). The address keeps its earlier
// failures: one good account must not reset guessing at others from the
// same place.
func (a *LoginAttempt) Succeed(ctx context.Context) error {
	if err := a.t.failures.DeleteLoginAttempt(ctx, a.ids); err != nil {
		return fmt.Errorf("login throttle: %w", err)
	}
	if err := a.t.failures.DeleteLoginFailures(ctx, a.subject); err != nil {
		return fmt.Errorf("login throttle: %w", err)
	}
	return nil
}
