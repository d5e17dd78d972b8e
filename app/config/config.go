// Package config reads Beacon's settings from the environment once, at
// start, into a Config that is passed down; nothing reads the environment
// after that.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"beacon/app/push"
)

// Config is every setting Beacon takes from its environment.
type Config struct {
	Port           string
	DatabaseURL    string
	Production     bool
	SecretKeyBase  []byte
	SecretMissing  bool // true when SecretKeyBase was generated for this run
	Migrate        bool
	AdminEmail     string
	AdminPassword  string
	AllowedOrigins []string
	Signup         bool
	// TrustProxy takes the client address from X-Forwarded-For as set by a
	// proxy on a private or loopback address (TRUST_PROXY=true); otherwise
	// it is the connection's, and the header is ignored.
	TrustProxy bool
	// SignupLimit is how many sign-ups one client address may make per
	// hour (SIGNUP_LIMIT, default 10); 0 means no limit.
	SignupLimit int
	// Heartbeat is how often streams get a ": ping" comment.
	Heartbeat time.Duration
	// ChatRate is how many messages per second one user may send over
	// time across their chat sockets on this instance, ChatBurst how many
	// at once; beyond that they are throttled, then disconnected.
	ChatRate  float64
	ChatBurst int
	// Retention is how long notifications are kept (RETENTION); 0 keeps
	// them for good.
	Retention time.Duration
	// MetricsToken is the bearer token /metrics asks for; "" turns
	// /metrics off.
	MetricsToken string
	Log          Logging
	// StreamLimitUser and StreamLimitAddress cap the streams, long polls
	// and chat sockets one signed-in user, or one visitor's address, may
	// hold at once; 0 is no limit.
	StreamLimitUser    int
	StreamLimitAddress int
	// WebPush is the VAPID key pair (WEBPUSH_PUBLIC_KEY,
	// WEBPUSH_PRIVATE_KEY); zero when unset, and then the store keeps one
	// for every instance.
	WebPush push.Keys
	// WebPushAllowedHosts are the hosts a push subscription's endpoint may
	// name (WEBPUSH_ALLOWED_HOSTS; default push.DefaultAllowedHosts).
	WebPushAllowedHosts []string
	// WebPushDelay is how long after a notification became visible its
	// push is sent (WEBPUSH_DELAY, default 10s), if still unread.
	WebPushDelay time.Duration
	// WebPushSubject is the contact the push services may write to
	// (WEBPUSH_SUBJECT; default mailto:ADMIN_EMAIL, else the first of
	// ALLOWED_ORIGINS when https://, else "": the sender then names a
	// placeholder and warns of it at its first push).
	WebPushSubject string
	// OIDC is single sign-on (OIDC_*); off unless OIDC_ISSUER is set.
	OIDC OIDC
	// PasswordLogin is PASSWORD_LOGIN (default true): false hides the
	// password form, refuses POST /login and turns sign-up off.
	PasswordLogin bool
}

// Load builds a Config from getenv (os.Getenv in main, a map in tests).
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		Port:               or(getenv("PORT"), "8080"),
		DatabaseURL:        or(getenv("DATABASE_URL"), "beacon.db"),
		Production:         getenv("APP_ENV") == "production",
		AdminEmail:         strings.TrimSpace(getenv("ADMIN_EMAIL")),
		AdminPassword:      getenv("ADMIN_PASSWORD"),
		Heartbeat:          15 * time.Second,
		ChatRate:           10,
		ChatBurst:          20,
		SignupLimit:        10,
		MetricsToken:       getenv("METRICS_TOKEN"),
		StreamLimitUser:    30,
		StreamLimitAddress: 200,
	}
	var err error
	if c.Log, err = LoadLogging(getenv); err != nil {
		return c, err
	}
	if c.Migrate, err = parseBool("MIGRATE", getenv("MIGRATE"), true); err != nil {
		return c, err
	}
	if c.Signup, err = parseBool("SIGNUP", getenv("SIGNUP"), true); err != nil {
		return c, err
	}
	if c.TrustProxy, err = parseBool("TRUST_PROXY", getenv("TRUST_PROXY"), false); err != nil {
		return c, err
	}
	if c.OIDC, err = LoadOIDC(getenv); err != nil {
		return c, err
	}
	if c.PasswordLogin, err = parseBool("PASSWORD_LOGIN", getenv("PASSWORD_LOGIN"), true); err != nil {
		return c, err
	}
	if !c.PasswordLogin {
		if !c.OIDC.On() {
			return c, fmt.Errorf("config: PASSWORD_LOGIN=false needs single sign-on (OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET), or nobody could sign in")
		}
		c.Signup = false // an account with a password it could not use
	}
	if v := getenv("HEARTBEAT_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("config: HEARTBEAT_INTERVAL %q is not a positive duration such as 15s", v)
		}
		c.Heartbeat = d
	}
	if v := getenv("RETENTION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("config: RETENTION %q is not a positive duration such as 720h", v)
		}
		c.Retention = d
	}
	if v := getenv("CHAT_RATE_LIMIT"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0) {
			return c, fmt.Errorf("config: CHAT_RATE_LIMIT %q is not a positive number of messages per second", v)
		}
		c.ChatRate = f
	}
	if v := getenv("CHAT_RATE_BURST"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("config: CHAT_RATE_BURST %q is not a positive whole number", v)
		}
		c.ChatBurst = n
	}
	if v := getenv("SIGNUP_LIMIT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return c, fmt.Errorf("config: SIGNUP_LIMIT %q is not a whole number of sign-ups per hour (0 for no limit)", v)
		}
		c.SignupLimit = n
	}
	for name, dst := range map[string]*int{"STREAM_LIMIT_USER": &c.StreamLimitUser, "STREAM_LIMIT_ADDRESS": &c.StreamLimitAddress} {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return c, fmt.Errorf("config: %s %q is not a whole number (0 for no limit)", name, v)
			}
			*dst = n
		}
	}
	for _, o := range strings.Split(getenv("ALLOWED_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.AllowedOrigins = append(c.AllowedOrigins, strings.TrimRight(o, "/"))
		}
	}
	c.WebPushAllowedHosts = push.DefaultAllowedHosts
	if v := getenv("WEBPUSH_ALLOWED_HOSTS"); strings.TrimSpace(v) != "" {
		c.WebPushAllowedHosts = nil
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				c.WebPushAllowedHosts = append(c.WebPushAllowedHosts, h)
			}
		}
	}
	c.WebPush = push.Keys{Public: strings.TrimSpace(getenv("WEBPUSH_PUBLIC_KEY")), Private: strings.TrimSpace(getenv("WEBPUSH_PRIVATE_KEY"))}
	if c.WebPush != (push.Keys{}) {
		if err := c.WebPush.Check(); err != nil {
			return c, fmt.Errorf("config: %w (set both, or neither: Beacon then keeps a pair in its database)", err)
		}
	}
	c.WebPushDelay = 10 * time.Second
	if v := getenv("WEBPUSH_DELAY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return c, fmt.Errorf("config: WEBPUSH_DELAY %q is not a duration such as 10s", v)
		}
		c.WebPushDelay = d
	}
	switch v := strings.TrimSpace(getenv("WEBPUSH_SUBJECT")); {
	case v != "":
		if !strings.HasPrefix(v, "mailto:") && !strings.HasPrefix(v, "https://") {
			return c, fmt.Errorf("config: WEBPUSH_SUBJECT %q must start with mailto: or https://", v)
		}
		c.WebPushSubject = v
	case c.AdminEmail != "":
		c.WebPushSubject = "mailto:" + c.AdminEmail
	case len(c.AllowedOrigins) > 0 && strings.HasPrefix(c.AllowedOrigins[0], "https://"):
		c.WebPushSubject = c.AllowedOrigins[0]
	}
	switch secret := getenv("SECRET_KEY_BASE"); {
	case secret != "":
		c.SecretKeyBase = []byte(secret)
	case c.Production:
		return c, fmt.Errorf("config: SECRET_KEY_BASE is required when APP_ENV=production")
	default:
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return c, fmt.Errorf("config: generate SECRET_KEY_BASE: %w", err)
		}
		c.SecretKeyBase = []byte(hex.EncodeToString(b))
		c.SecretMissing = true
	}
	return c, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func parseBool(name, v string, def bool) (bool, error) {
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return def, fmt.Errorf("config: %s=%q is not true or false", name, v)
	}
	return b, nil
}
