package auth

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"beacon/app/models"
)

// The rules of an account, for sign-up and `beacon admin create` alike.
// bcrypt reads at most 72 bytes of a password, so a longer one would be
// silently cut: it is refused instead.
const (
	MaxName          = 100 // characters
	MaxEmail         = 254 // bytes
	MinPassword      = 8   // characters
	MaxPasswordBytes = 72
)

// ValidEmail accepts a bare address such as a@example.com, at most
// MaxEmail bytes of storable text: no display name, no angle brackets, and
// a dot inside the domain.
func ValidEmail(s string) bool {
	if len(s) > MaxEmail || !models.IsText(s) {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	_, domain, _ := strings.Cut(s, "@")
	return strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// PasswordProblem says what is wrong with a new password, or "" when
// nothing is.
func PasswordProblem(password string) string {
	switch {
	case !models.IsText(password):
		return models.NotText
	case utf8.RuneCountInString(password) < MinPassword:
		return fmt.Sprintf("is too short (at least %d characters)", MinPassword)
	case len(password) > MaxPasswordBytes:
		return fmt.Sprintf("is too long (at most %d bytes)", MaxPasswordBytes)
	}
	return ""
}
