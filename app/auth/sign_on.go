package auth

import (
	"fmt"
	"time"

	"github.com/labstack/echo/v4"
)

// signOnKey holds a sign-in through the identity provider between its
// start and its callback. In the server-side session, not a cookie of its
// own: the callback then accepts only a flow this browser started, and,
// once taken, never again.
const signOnKey = "sign_on"

// KeepSignOn keeps flow (opaque to auth) in this browser's session in
// place of any before, and saves the session: a visitor's new one lives
// as long as a visitor's CSRF session does.
func (s *Sessions) KeepSignOn(c echo.Context, flow []byte) error {
	ctx := c.Request().Context()
	if s.sm.GetInt64(ctx, userIDKey) == 0 && s.sm.Token(ctx) == "" {
		s.sm.SetDeadline(ctx, time.Now().Add(visitorLifetime).UTC())
	}
	s.sm.Put(ctx, signOnKey, flow)
	if err := s.commit(c); err != nil {
		return fmt.Errorf("keep sign-on flow: %w", err)
	}
	return nil
}

// TakeSignOn returns the flow KeepSignOn kept (nil for none) and removes
// it from the stored session before anything else happens, so that it
// serves one callback only, whatever comes of that one.
func (s *Sessions) TakeSignOn(c echo.Context) ([]byte, error) {
	flow := s.sm.PopBytes(c.Request().Context(), signOnKey)
	if flow == nil {
		return nil, nil
	}
	if err := s.commit(c); err != nil {
		return nil, fmt.Errorf("take sign-on flow: %w", err)
	}
	return flow, nil
}
