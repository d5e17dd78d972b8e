package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"beacon/app/models"
	"beacon/app/store"
)

const userKey = "beacon.user"

// Users is what auth reads of the users table.
type Users interface {
	UserByID(ctx context.Context, id int64) (models.User, error)
	UserByTokenHash(ctx context.Context, hash string) (models.User, error)
}

// CurrentUser is the signed-in user, or nil for a visitor.
func CurrentUser(c echo.Context) *models.User {
	u, _ := c.Get(userKey).(*models.User)
	return u
}

// UserID is the signed-in user's id, or 0 for a visitor.
func UserID(c echo.Context) int64 {
	if u := CurrentUser(c); u != nil {
		return u.ID
	}
	return 0
}

// LoadUser is middleware that finds the session's user. A session whose
// user is gone counts as no session.
func LoadUser(s *Sessions, users Users) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if id := s.UserID(c.Request().Context()); id != 0 {
				u, err := users.UserByID(c.Request().Context(), id)
				switch {
				case err == nil:
					c.Set(userKey, &u)
				case !errors.Is(err, store.ErrNotFound):
					return fmt.Errorf("load current user: %w", err)
				}
			}
			return next(c)
		}
	}
}

// RequireUser sends visitors to the sign-in page.
func RequireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if CurrentUser(c) == nil {
			return c.Redirect(http.StatusSeeOther, "/login")
		}
		return next(c)
	}
}

// RequireAdmin sends visitors to the sign-in page and refuses non-admins.
func RequireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return RequireUser(func(c echo.Context) error {
		if !CurrentUser(c).Admin {
			return echo.NewHTTPError(http.StatusForbidden, "Only admins may do that.")
		}
		return next(c)
	})
}

// PrivateCache is middleware that keeps a signed-in user's pages and JSON
// out of shared caches and off the disk: "Cache-Control: private,
// no-store", unless the handler set its own (the stream's no-cache, the
// poll's no-store). It asks when the header is written, so a user that a
// bearer token authenticated later counts too.
func PrivateCache(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Before(func() {
			h := c.Response().Header()
			if CurrentUser(c) != nil && h.Get("Cache-Control") == "" {
				h.Set("Cache-Control", "private, no-store")
			}
		})
		return next(c)
	}
}
