// Package push is Web Push for closed tabs (RFC 8030): the server's
// application-server keys (VAPID, RFC 8292), which every instance and
// every deploy must share, since a browser's subscription is bound to the
// public key it was made with.
package push

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
)

// Keys are a VAPID key pair as WEBPUSH_PUBLIC_KEY and WEBPUSH_PRIVATE_KEY
// carry them: base64url without padding, the uncompressed P-256 point and
// its raw 32-byte scalar.
type Keys struct {
	Public, Private string
}

// NewKeys makes a new pair.
func NewKeys() (Keys, error) {
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return Keys{}, fmt.Errorf("new VAPID keys: %w", err)
	}
	return Keys{Public: encode(k.PublicKey().Bytes()), Private: encode(k.Bytes())}, nil
}

// Check reports what is wrong with k, if anything: each must decode, and
// the public key must be the private key's.
func (k Keys) Check() error {
	priv, err := decode(k.Private)
	if err != nil {
		return fmt.Errorf("WEBPUSH_PRIVATE_KEY: %w", err)
	}
	pub, err := decode(k.Public)
	if err != nil {
		return fmt.Errorf("WEBPUSH_PUBLIC_KEY: %w", err)
	}
	key, err := ecdh.P256().NewPrivateKey(priv)
	if err != nil {
		return errors.New("WEBPUSH_PRIVATE_KEY is not a P-256 private key (32 bytes, base64url)")
	}
	if !bytes.Equal(key.PublicKey().Bytes(), pub) {
		return errors.New("WEBPUSH_PUBLIC_KEY is not the public key of WEBPUSH_PRIVATE_KEY (`beacon webpush keys` prints a pair)")
	}
	return nil
}

func encode(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// decode reads base64url with or without padding, as key tools print it.
func decode(s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		if b, err = base64.URLEncoding.DecodeString(s); err != nil {
			return nil, errors.New("not base64url")
		}
	}
	return b, nil
}
