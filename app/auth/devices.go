package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// Device cookies, after OWASP's scheme against account lockout: a browser
// that signed in as a user gets a signed cookie naming that user and a
// random nonce. Sign-ins with it are throttled per device (the nonce), not
// per account or address, so the owner's browser gets in while someone
// elsewhere keeps failing with the account's email.
const (
	devicePrefix   = "beacon_device_"
	deviceLifetime = 365 * 24 * time.Hour
	// Only the sign-in form needs it.
	devicePath = "/login"
)

// Devices signs and checks device cookies with a key derived from
// SECRET_KEY_BASE.
type Devices struct{ key []byte }

// NewDevices returns device cookies signed with secret.
func NewDevices(secret []byte) *Devices {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("beacon device cookie"))
	return &Devices{key: mac.Sum(nil)}
}

// Device returns the nonce of the valid device cookie the request carries
// for userID, or "" when it carries none.
func (d *Devices) Device(c echo.Context, userID int64) string {
	ck, err := c.Cookie(deviceCookie(userID))
	if err != nil {
		return ""
	}
	payload, _, ok := strings.Cut(ck.Value, "~")
	id, nonce, ok2 := strings.Cut(payload, ".")
	if !ok || !ok2 || id != strconv.FormatInt(userID, 10) || nonce == "" || !hmac.Equal([]byte(d.sign(payload)), []byte(ck.Value)) {
		return ""
	}
	return nonce
}

// Issue gives the browser a new device cookie for userID, after it signed
// in as that user.
func (d *Devices) Issue(c echo.Context, userID int64) {
	c.SetCookie(&http.Cookie{
		Name:     deviceCookie(userID),
		Value:    d.sign(strconv.FormatInt(userID, 10) + "." + rand.Text()),
		Path:     devicePath,
		MaxAge:   int(deviceLifetime / time.Second),
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   Secure(c),
	})
}

// deviceCookie is the cookie's name for userID: one per user a browser
// signed in as.
func deviceCookie(userID int64) string { return devicePrefix + strconv.FormatInt(userID, 10) }

func (d *Devices) sign(payload string) string {
	mac := hmac.New(sha256.New, d.key)
	mac.Write([]byte(payload))
	return payload + "~" + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
