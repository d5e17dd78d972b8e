package push

import (
	"crypto/ecdh"
	"errors"
	"net"
	"net/url"
	"strings"
)

// DefaultAllowedHosts are the browsers' push services a subscription's
// endpoint may name when WEBPUSH_ALLOWED_HOSTS is unset: Chrome and Edge
// on FCM, Firefox, Windows (one host per region under notify.windows.com),
// Safari.
var DefaultAllowedHosts = []string{"fcm.googleapis.com", "updates.push.services.mozilla.com", "*.notify.windows.com", "web.push.apple.com"}

// Subscription is a browser's PushSubscription.toJSON(): where to send,
// and the keys to encrypt for it with (RFC 8291).
type Subscription struct {
	Endpoint       string  `json:"endpoint"`
	ExpirationTime *int64  `json:"expirationTime"`
	Keys           SubKeys `json:"keys"`
}

// SubKeys are a subscription's keys, base64url: the browser's P-256 public
// key and its 16-byte authentication secret.
type SubKeys struct {
	P256dh string `json:"p256dh"`
	Auth   string `json:"auth"`
}

// maxEndpoint bounds an endpoint's length; the push services' are a few
// hundred bytes.
const maxEndpoint = 2000

// Check reports, as a message for the client, what is wrong with s: an
// endpoint that is not https:// on one of allowed (a listed loopback host
// may be http://, for tests), or keys that are not a P-256 point and a
// 16-byte secret.
func (s Subscription) Check(allowed []string) error {
	if err := checkEndpoint(s.Endpoint, allowed); err != nil {
		return err
	}
	pub, err := decode(s.Keys.P256dh)
	if err != nil {
		return errors.New("keys.p256dh must be base64url")
	}
	if _, err := ecdh.P256().NewPublicKey(pub); err != nil {
		return errors.New("keys.p256dh is not a P-256 public key")
	}
	if auth, err := decode(s.Keys.Auth); err != nil || len(auth) != 16 {
		return errors.New("keys.auth must be 16 bytes, base64url")
	}
	return nil
}

// checkEndpoint is Check's rule for the endpoint alone.
func checkEndpoint(endpoint string, allowed []string) error {
	u, err := url.Parse(endpoint)
	switch {
	case endpoint == "" || len(endpoint) > maxEndpoint || err != nil || u.Host == "" || u.User != nil:
		return errors.New("endpoint must be a push service's https:// address")
	case !hostAllowed(u.Hostname(), allowed):
		return errors.New("endpoint names a host that is not a push service this server sends to (WEBPUSH_ALLOWED_HOSTS)")
	case u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname())):
		return errors.New("endpoint must be https://")
	}
	return nil
}

// hostAllowed reports whether host is one of allowed, where "*.example"
// allows any host under example.
func hostAllowed(host string, allowed []string) bool {
	host = strings.ToLower(host)
	for _, a := range allowed {
		a = strings.ToLower(a)
		if host == a || strings.HasPrefix(a, "*.") && strings.HasSuffix(host, a[1:]) {
			return true
		}
	}
	return false
}

func loopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || ip != nil && ip.IsLoopback()
}
