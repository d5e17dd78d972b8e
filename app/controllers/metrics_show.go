package controllers

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// metricsShow serves /metrics to whoever sends its bearer token. The
// figures (subscriber counts, fds, traffic) help an attacker size an
// attack, so nobody else gets them.
func metricsShow(token string, metrics http.Handler) echo.HandlerFunc {
	want := []byte(token)
	return func(c echo.Context) error {
		got, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
		// Constant time, so that timing does not reveal the token byte by byte.
		if !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="metrics"`)
			return echo.NewHTTPError(http.StatusUnauthorized, "/metrics needs Authorization: Bearer $METRICS_TOKEN.")
		}
		metrics.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}
