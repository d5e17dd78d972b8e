package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

// NewAPIToken returns a new random token and the hash to store for it. The
// token is shown once and never kept.
func NewAPIToken() (token, hash string) {
	token = "bcn_" + rand.Text()
	return token, HashAPIToken(token)
}

// HashAPIToken is how a token is kept. A token carries 130 random bits, so
// a plain SHA-256 is enough: there is nothing to guess.
func HashAPIToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
