package push_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"beacon/app/push"
)

func TestNewKeysAreAPairThatChecksOut(t *testing.T) {
	a, err := push.NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Check(); err != nil {
		t.Fatalf("a new pair: %v", err)
	}
	pub, err := base64.RawURLEncoding.DecodeString(a.Public)
	if err != nil || len(pub) != 65 || pub[0] != 4 {
		t.Fatalf("public key %q: %d bytes (%v), want an uncompressed P-256 point", a.Public, len(pub), err)
	}
	b, err := push.NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	for what, k := range map[string]push.Keys{
		"another pair's public key": {Public: b.Public, Private: a.Private},
		"not base64url":             {Public: a.Public, Private: "not*base64"},
		"a short private key":       {Public: a.Public, Private: a.Private[:20]},
		"no public key":             {Private: a.Private},
	} {
		if err := k.Check(); err == nil || !strings.Contains(err.Error(), "WEBPUSH_") {
			t.Errorf("%s: %v, want an error naming the setting", what, err)
		}
	}
}
