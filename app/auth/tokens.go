package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"beacon/app/store"
)

// API tokens: how they are made and kept, and the bearer check of the
// JSON API.

// NewAPIToken returns a new random token and the hash to store for it. The
// token is shown once and never kept.
func NewAPIToken() (token, hash string) {
	token = "bcn_" + rand.Text()
	return token, HashAPIToken(token)
}

// readTokenPrefix starts every personal read token. The hash covers it, so
// a token the database knows with this prefix was made as a read token.
const readTokenPrefix = "bcr_"

// NewReadToken is NewAPIToken for a person's own read token.
func NewReadToken() (token, hash string) {
	token = readTokenPrefix + rand.Text()
	return token, HashAPIToken(token)
}

// tokenKey holds the hash of the bearer token a request was authenticated
// with, for TokenHash.
const tokenKey = "beacon.token"

// TokenHash is the hash of the bearer token that authenticated the request
// (BearerUser), or "" when its user came from the session.
func TokenHash(c echo.Context) string {
	h, _ := c.Get(tokenKey).(string)
	return h
}

// BearerUser authenticates a reading route (the list API, the long poll,
// the stream) by bearer token when the request carries one: any token of
// Beacon's acts as its owner, in place of the session's user. A token
// Beacon does not know is 401.
func BearerUser(users Users) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			token := bearerToken(c.Request())
			if token == "" {
				return next(c)
			}
			hash := HashAPIToken(token)
			u, err := users.UserByTokenHash(c.Request().Context(), hash)
			if errors.Is(err, store.ErrNotFound) {
				return unauthorized(c, "invalid bearer token")
			}
			if err != nil {
				return fmt.Errorf("check bearer token: %w", err)
			}
			c.Set(userKey, &u)
			c.Set(tokenKey, hash)
			return next(c)
		}
	}
}

// TokenNameProblem says what is wrong with a token's name, or "" when
// nothing is: the rules of a user's name, but a blank one is fine.
func TokenNameProblem(name string) string {
	if name == "" {
		return ""
	}
	return NameProblem(name)
}

// HashAPIToken is how a token is kept. A token carries 130 random bits, so
// a plain SHA-256 is enough: there is nothing to guess.
func HashAPIToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// RequireAPIAdmin authenticates API calls by bearer token; the token must
// be an admin token of an admin. A person's read token is 403; anything
// else is 401 with WWW-Authenticate.
func RequireAPIAdmin(users Users) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			token := bearerToken(c.Request())
			if token == "" {
				return unauthorized(c, "missing bearer token")
			}
			u, err := users.UserByTokenHash(c.Request().Context(), HashAPIToken(token))
			read := strings.HasPrefix(token, readTokenPrefix)
			if errors.Is(err, store.ErrNotFound) || err == nil && !u.Admin && !read {
				return unauthorized(c, "invalid bearer token")
			}
			if err != nil {
				return fmt.Errorf("check api token: %w", err)
			}
			if read {
				return echo.NewHTTPError(http.StatusForbidden, "This is a personal read token: it reads notifications, and cannot post, edit or withdraw them.")
			}
			c.Set(userKey, &u)
			return next(c)
		}
	}
}

func unauthorized(c echo.Context, msg string) error {
	c.Response().Header().Set("WWW-Authenticate", `Bearer realm="beacon"`)
	return echo.NewHTTPError(http.StatusUnauthorized, msg)
}

func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}
