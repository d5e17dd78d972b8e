package auth

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"

	"beacon/app/models"
)

// The rules of a password, for sign-up and `beacon admin create` alike
// (those of the user's stored fields are models.MaxName and
// models.MaxEmail). bcrypt reads at most 72 bytes of a password, so a
// longer one would be silently cut: it is refused instead.
const (
	MinPassword      = 8 // characters
	MaxPasswordBytes = 72
	// MinPasswordScore is the least zxcvbn score (0 to 4) a new password
	// must reach: 2 means it takes more than a million guesses, past the
	// common-password lists, words and simple patterns attackers try first.
	MinPasswordScore = 2
)

// ValidEmail accepts a bare address such as a@example.com, at most
// models.MaxEmail bytes of storable text: no display name, no angle
// brackets, and a dot inside the domain.
func ValidEmail(s string) bool {
	if len(s) > models.MaxEmail || !models.IsText(s) {
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
// nothing is. The account's own name and email count as easy guesses.
func PasswordProblem(password string, account ...string) string {
	switch {
	case !models.IsText(password):
		return models.NotText
	case utf8.RuneCountInString(password) < MinPassword:
		return fmt.Sprintf("is too short (at least %d characters)", MinPassword)
	case len(password) > MaxPasswordBytes:
		return fmt.Sprintf("is too long (at most %d bytes)", MaxPasswordBytes)
	case zxcvbn.PasswordStrength(password, account).Score < MinPasswordScore:
		return "is too easy to guess (a common password, a word, or a simple pattern); try a few unrelated words"
	}
	return ""
}

// NameProblem says what is wrong with a display name, or "" when nothing
// is. Control and invisible formatting characters are refused: a
// right-to-left override (U+202E) would let "nimdA" show as "Admin".
func NameProblem(name string) string {
	switch {
	case name == "":
		return "can't be blank"
	case !models.IsText(name):
		return models.NotText
	case strings.IndexFunc(name, models.IsHidden) >= 0:
		return models.HasHidden
	case utf8.RuneCountInString(name) > models.MaxName:
		return fmt.Sprintf("is too long (at most %d characters)", models.MaxName)
	}
	return ""
}
