package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"beacon/app/models"
	"beacon/app/store"
)

const (
	userKey = "beacon.user"
	csrfKey = "csrf"
)

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

// CSRFToken is the token a form rendered for this request must carry.
func CSRFToken(c echo.Context) string {
	t, _ := c.Get(csrfKey).(string)
	return t
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

// CSRF checks the _csrf form field (or X-CSRF-Token header) on every unsafe
// request, except under /api/: the API's writes authenticate by bearer
// token alone, which a browser never sends on its own. A missing or wrong
// token is 403.
//
// Echo's CSRF middleware would also let a same-origin POST through on the
// browser's Sec-Fetch-Site header alone, with a placeholder in the form's
// _csrf field; our contract is a real token in every form, checked on every
// POST, so the middleware is not shown that header.
func CSRF() echo.MiddlewareFunc {
	check := middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "form:_csrf,header:X-CSRF-Token",
		ContextKey:     csrfKey,
		CookieName:     "_csrf",
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSameSite: http.SameSiteLaxMode,
		// As long as a session: a tab open for days must still post.
		CookieMaxAge: int(sessionLifetime / time.Second),
		Skipper: func(c echo.Context) bool {
			return strings.HasPrefix(c.Path(), "/api/")
		},
		ErrorHandler: func(err error, c echo.Context) error {
			return echo.NewHTTPError(http.StatusForbidden, "The form was stale or forged (missing or invalid CSRF token). Reload the page and try again.").SetInternal(err)
		},
	})
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		h := check(next)
		return func(c echo.Context) error {
			c.Request().Header.Del(echo.HeaderSecFetchSite)
			return h(c)
		}
	}
}
