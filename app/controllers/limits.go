package controllers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/limits"
)

// ConnectionLimiter admits long-lived connections per signed-in user, or
// per address for visitors.
type ConnectionLimiter interface {
	Acquire(userID int64, addr string) (*limits.Lease, bool)
}

// retryAfterSeconds is what a client over its limit is told to wait: long
// enough not to hammer, short enough once it closed a tab.
const retryAfterSeconds = "10"

// limitConnections holds a lease for the request's connection while its
// handler runs, or refuses it with 429 when its user (or, for a visitor,
// its address) holds too many. A handler whose connection outlives it
// takes the lease over with limits.Hold.
func limitConnections(l ConnectionLimiter) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			lease, ok := l.Acquire(auth.UserID(c), c.RealIP())
			if !ok {
				// Answered here, not by HandleError: on the stream it
				// would say "come back shortly", and 429 is the one
				// status meant to stop an EventSource for good.
				c.Response().Header().Set("Retry-After", retryAfterSeconds)
				who := "this address"
				if auth.UserID(c) != 0 {
					who = "your account"
				}
				return answer(c, http.StatusTooManyRequests,
					"Too many open streams, long polls and chat connections from "+who+": close some and try again.")
			}
			defer lease.ReleaseUnlessHeld()
			c.SetRequest(c.Request().WithContext(limits.WithLease(c.Request().Context(), lease)))
			return next(c)
		}
	}
}
