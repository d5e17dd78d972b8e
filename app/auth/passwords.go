// Package auth signs people in and out, checks CSRF tokens and API tokens,
// and knows who the current user is.
package auth

import (
	"crypto/rand"
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

// CheckPassword reports whether password matches hash.
func CheckPassword(hash, password string) bool {
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
	return err == nil
}

// decoyHash is a bcrypt hash (of a throwaway password, at the default
// cost) to check against when no user has the email, so that a failed
// sign-in takes as long either way and does not reveal which emails exist.
const decoyHash = "$2a$10$cH8Oh2Fulvvs24snfzC0suANwf2ZgQbV5jk6/FgMC1kl/Woc5TEYO"

// CheckNoPassword spends the time CheckPassword would, and reports false.
func CheckNoPassword(password string) bool {
	CheckPassword(decoyHash, password)
	return false
}

// UnusablePasswordHash is the password hash of an account made by single
// sign-on: a bcrypt hash of random text nobody knows, so that no password
// (the empty one included) matches it, while checking one takes as long
// as for any account and tells nothing of which accounts have none.
func UnusablePasswordHash() (string, error) {
	return HashPassword(rand.Text())
}
