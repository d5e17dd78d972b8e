package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
)

const (
	sessionCookie   = "beacon_session"
	sessionLifetime = 30 * 24 * time.Hour
	userIDKey       = "user_id"
)

// Sessions keeps sessions server-side with scs, so that logout really ends
// one, and signs the cookie that names it with SECRET_KEY_BASE.
type Sessions struct {
	sm  *scs.SessionManager
	key []byte
}

// NewSessions returns sessions kept in store and signed with secret.
func NewSessions(store scs.Store, secret []byte) *Sessions {
	sm := scs.New()
	// scs.New also starts an in-memory store we replace; its idle cleanup
	// goroutine stays (stopping it at once races inside scs).
	sm.Store = store
	// The store keeps a hash of each token, so a leaked sessions table
	// cannot be replayed as cookies.
	sm.HashTokenInStore = true
	sm.Lifetime = sessionLifetime
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("beacon session cookie"))
	return &Sessions{sm: sm, key: mac.Sum(nil)}
}

// Load is middleware that loads the request's session, if its cookie is
// signed by us, into the request's context.
func (s *Sessions) Load(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		var token string
		if ck, err := c.Cookie(sessionCookie); err == nil {
			token, _ = s.verify(ck.Value)
		}
		ctx, err := s.sm.Load(c.Request().Context(), token)
		if err != nil {
			return fmt.Errorf("load session: %w", err)
		}
		c.SetRequest(c.Request().WithContext(ctx))
		// Every answer depends on the cookie: say so once, just before the
		// header is written, unless a handler already did.
		c.Response().Before(func() { varyCookie(c.Response().Header()) })
		return next(c)
	}
}

// varyCookie adds "Vary: Cookie" to h unless it is there already.
func varyCookie(h http.Header) {
	for _, v := range h.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), "Cookie") {
				return
			}
		}
	}
	h.Add("Vary", "Cookie")
}

// UserID is the signed-in user's id, or 0.
func (s *Sessions) UserID(ctx context.Context) int64 {
	return s.sm.GetInt64(ctx, userIDKey)
}

// Login starts a session for userID under a new token and a new CSRF
// secret (so a session id or form token planted before login is
// worthless) and sets its cookie.
func (s *Sessions) Login(c echo.Context, userID int64) error {
	ctx := c.Request().Context()
	if err := s.sm.RenewToken(ctx); err != nil {
		return fmt.Errorf("renew session: %w", err)
	}
	s.sm.Put(ctx, userIDKey, userID)
	s.newCSRFSecret(c)
	return s.commit(c)
}

// Logout destroys the session in the store and clears its cookie.
func (s *Sessions) Logout(c echo.Context) error {
	if err := s.sm.Destroy(c.Request().Context()); err != nil {
		return fmt.Errorf("destroy session: %w", err)
	}
	s.setCookie(c, "", time.Unix(1, 0))
	return nil
}

func (s *Sessions) commit(c echo.Context) error {
	token, expiry, err := s.sm.Commit(c.Request().Context())
	if err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	s.setCookie(c, s.sign(token), expiry)
	return nil
}

func (s *Sessions) setCookie(c echo.Context, value string, expires time.Time) {
	ck := &http.Cookie{
		Name:     sessionCookie,
		Value:    value,
		Path:     "/",
		Expires:  expires,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   Secure(c),
	}
	if value == "" {
		ck.MaxAge = -1
	}
	c.SetCookie(ck)
}

func (s *Sessions) sign(token string) string {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(token))
	return token + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func (s *Sessions) verify(value string) (string, bool) {
	token, _, ok := strings.Cut(value, ".")
	if !ok || !hmac.Equal([]byte(s.sign(token)), []byte(value)) {
		return "", false
	}
	return token, true
}

// Active reports whether the session loaded into ctx still exists in the
// store: a connection that outlives its request (a stream, the chat) asks,
// so that signing out in one tab ends it too.
func (s *Sessions) Active(ctx context.Context) (bool, error) {
	return s.ActiveToken(s.Token(ctx))
}

// Token is the token of the session loaded into ctx, or "" for none.
func (s *Sessions) Token(ctx context.Context) string { return s.sm.Token(ctx) }

// ActiveToken is Active for a session known by its token: a connection
// that outlives its request by long (a chat socket) keeps the token, not
// the request's context with its session data.
func (s *Sessions) ActiveToken(token string) (bool, error) {
	if token == "" {
		return false, nil
	}
	// Load again into a context of its own: Load keeps a session already
	// in its context instead of reading the store.
	fresh, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	loaded, err := s.sm.Load(fresh, token)
	if err != nil {
		return false, fmt.Errorf("reload session: %w", err)
	}
	return s.sm.GetInt64(loaded, userIDKey) != 0, nil
}
