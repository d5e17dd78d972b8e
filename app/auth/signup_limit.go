package auth

import (
	"context"
	"fmt"
	"time"
)

// SignupWindow is the period SIGNUP_LIMIT counts sign-ups over.
const SignupWindow = time.Hour

// Signups is where sign-ups are counted: the database, so that the limit
// holds across instances and restarts.
type Signups interface {
	BeginSignup(ctx context.Context, address string, limit int, since, at time.Time) (time.Time, error)
}

// SignupLimit allows limit sign-ups per client address per SignupWindow.
type SignupLimit struct {
	signups Signups
	limit   int
	now     func() time.Time
}

// NewSignupLimit returns a limit of limit sign-ups per address per hour
// (0: none) counted in signups; now is the clock (time.Now when nil).
func NewSignupLimit(signups Signups, limit int, now func() time.Time) *SignupLimit {
	if now == nil {
		now = time.Now
	}
	return &SignupLimit{signups: signups, limit: limit, now: now}
}

// Begin counts a sign-up from addr. When wait > 0 it is refused (and not
// counted): the address may try again after wait.
func (l *SignupLimit) Begin(ctx context.Context, addr string) (time.Duration, error) {
	if l.limit <= 0 {
		return 0, nil
	}
	now := l.now()
	blockedAt, err := l.signups.BeginSignup(ctx, addr, l.limit, now.Add(-SignupWindow), now)
	if err != nil {
		return 0, fmt.Errorf("signup limit: %w", err)
	}
	if blockedAt.IsZero() {
		return 0, nil
	}
	return max(time.Millisecond, blockedAt.Add(SignupWindow).Sub(now)), nil
}
