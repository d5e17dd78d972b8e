// Package auth signs people in and out, checks CSRF tokens and API tokens,
// and knows who the current user is.
package auth

import (
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// HashPassword returns a bcrypt hash of password.
func HashPassword(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// unknownUserHash is checked against when no user has the email given, so
// that a failed login takes as long whether or not the email exists.
const unknownUserHash = "$2a$10$kFyD/mh6XnRXx6UPvkr9X.TobP54.GGtaFk1NeDbzVhCnHw5.lmS."

// CheckUnknownPassword spends the time a real check would, and fails.
func CheckUnknownPassword(password string) bool {
	CheckPassword(unknownUserHash, password)
	return false
}

// CheckPassword reports whether password matches hash.
func CheckPassword(hash, password string) bool {
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
	return err == nil
}
