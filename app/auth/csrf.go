package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// CSRF tokens: each session holds a random secret, and every page shows it
// masked with a new one-time pad (pad, then pad XOR secret, as Rails does),
// so that the bytes differ on every response and a compression oracle
// (BREACH) cannot read the secret out of the pages. The secret never
// leaves the server in a cookie: a cookie an attacker plants is worthless.
const (
	csrfSessionKey = "csrf"
	csrfSecretLen  = 32
	// visitorLifetime bounds a session that holds only a CSRF secret (a
	// visitor on the sign-in form); signing in renews it to sessionLifetime.
	visitorLifetime = 24 * time.Hour
)

var csrfEncoding = base64.RawURLEncoding

// CSRFToken returns a masked token of the session's CSRF secret for a form
// on this response. A session without a secret gets one, and is saved
// (with its cookie) if it is new: only pages with forms call this, so a
// visitor reading the feed gets no session.
func (s *Sessions) CSRFToken(c echo.Context) (string, error) {
	ctx := c.Request().Context()
	secret := s.sm.GetBytes(ctx, csrfSessionKey)
	if len(secret) != csrfSecretLen {
		secret = make([]byte, csrfSecretLen)
		rand.Read(secret)
		if s.sm.GetInt64(ctx, userIDKey) == 0 && s.sm.Token(ctx) == "" {
			s.sm.SetDeadline(ctx, time.Now().Add(visitorLifetime).UTC())
		}
		s.sm.Put(ctx, csrfSessionKey, secret)
		if err := s.commit(c); err != nil {
			return "", fmt.Errorf("csrf token: %w", err)
		}
	}
	return maskCSRF(secret), nil
}

// newCSRFSecret gives the session a new secret, so that tokens shown
// before (to a visitor, or another user) are worthless after sign-in.
func (s *Sessions) newCSRFSecret(c echo.Context) {
	secret := make([]byte, csrfSecretLen)
	rand.Read(secret)
	s.sm.Put(c.Request().Context(), csrfSessionKey, secret)
}

func maskCSRF(secret []byte) string {
	b := make([]byte, 2*len(secret))
	pad, masked := b[:len(secret)], b[len(secret):]
	rand.Read(pad)
	subtle.XORBytes(masked, pad, secret)
	return csrfEncoding.EncodeToString(b)
}

// validCSRF reports whether token is secret masked by maskCSRF.
func validCSRF(token string, secret []byte) bool {
	b, err := csrfEncoding.DecodeString(token)
	if err != nil || len(secret) != csrfSecretLen || len(b) != 2*csrfSecretLen {
		return false
	}
	subtle.XORBytes(b[csrfSecretLen:], b[:csrfSecretLen], b[csrfSecretLen:])
	return subtle.ConstantTimeCompare(b[csrfSecretLen:], secret) == 1
}

// CheckCSRF is middleware that refuses (403) an unsafe request whose _csrf
// form field or X-CSRF-Token header (the feed's script sends that) is not
// a token of this session's secret. Requests under /api/ are not checked:
// the API's writes authenticate by bearer token alone, which a browser
// never sends on its own.
func (s *Sessions) CheckCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
			return next(c)
		}
		if strings.HasPrefix(c.Path(), "/api/") {
			return next(c)
		}
		secret := s.sm.GetBytes(c.Request().Context(), csrfSessionKey)
		if !validCSRF(c.Request().Header.Get("X-CSRF-Token"), secret) && !validCSRF(c.FormValue("_csrf"), secret) {
			return echo.NewHTTPError(http.StatusForbidden, "The form was stale or forged (missing or invalid CSRF token). Reload the page and try again.")
		}
		return next(c)
	}
}
