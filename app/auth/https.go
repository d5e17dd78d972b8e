package auth

import (
	"net"
	"strings"

	"github.com/labstack/echo/v4"
)

const httpsKey = "beacon.https"

// hsts tells browsers to come back over HTTPS only, for a year. Not for
// subdomains: Beacon cannot know what else runs under its domain.
const hsts = "max-age=31536000"

// HTTPS is middleware that finds whether the client reached us over HTTPS:
// over TLS to Beacon itself, or, with trustProxy (TRUST_PROXY), through a
// proxy on a loopback or private address that says X-Forwarded-Proto:
// https (the proxies Echo takes X-Forwarded-For from). Then it sends
// Strict-Transport-Security, and Secure marks every cookie we set.
// Anyone else's X-Forwarded-Proto is ignored.
func HTTPS(trustProxy bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			https := r.TLS != nil ||
				trustProxy && trustedProxy(r.RemoteAddr) && strings.EqualFold(strings.TrimSpace(r.Header.Get(echo.HeaderXForwardedProto)), "https")
			if https {
				c.Set(httpsKey, true)
				c.Response().Header().Set(echo.HeaderStrictTransportSecurity, hsts)
			}
			return next(c)
		}
	}
}

// Secure reports whether cookies for this request must be Secure: it came
// over HTTPS, as HTTPS found.
func Secure(c echo.Context) bool {
	s, _ := c.Get(httpsKey).(bool)
	return s
}

func trustedProxy(remoteAddr string) bool {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast())
}
