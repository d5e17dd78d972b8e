package sso

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func TestReadClaims(t *testing.T) {
	for _, tc := range []struct {
		name, claims string
		want         Identity
		bad          bool
	}{
		{name: "usual", claims: `{"email":"a@example.com","email_verified":true,"name":"Ann","groups":["ops","dev"]}`,
			want: Identity{Email: "a@example.com", EmailVerified: true, Name: "Ann", Groups: []string{"ops", "dev"}, HasGroups: true}},
		{name: "verified as a string", claims: `{"email":"a@example.com","email_verified":"true"}`,
			want: Identity{Email: "a@example.com", EmailVerified: true}},
		{name: "not verified", claims: `{"email":"a@example.com","email_verified":false}`, want: Identity{Email: "a@example.com"}},
		{name: "verified missing", claims: `{"email":"a@example.com"}`, want: Identity{Email: "a@example.com"}},
		{name: "verified odd", claims: `{"email":"a@example.com","email_verified":1}`, want: Identity{Email: "a@example.com"}},
		{name: "empty groups", claims: `{"groups":[]}`, want: Identity{Groups: []string{}, HasGroups: true}},
		{name: "null groups", claims: `{"groups":null}`, want: Identity{}},
		{name: "one group", claims: `{"groups":"ops"}`, want: Identity{Groups: []string{"ops"}, HasGroups: true}},
		{name: "groups not names", claims: `{"groups":[1,2]}`, bad: true},
		{name: "email not a string", claims: `{"email":["a@example.com"]}`, bad: true},
	} {
		var claims map[string]json.RawMessage
		if err := json.Unmarshal([]byte(tc.claims), &claims); err != nil {
			t.Fatal(err)
		}
		got, err := readClaims("sub", claims, "groups")
		if tc.bad {
			if err == nil {
				t.Errorf("%s: accepted as %+v", tc.name, got)
			}
			continue
		}
		tc.want.Subject = "sub"
		if err != nil || got.Email != tc.want.Email || got.EmailVerified != tc.want.EmailVerified || got.Name != tc.want.Name ||
			!slices.Equal(got.Groups, tc.want.Groups) || got.HasGroups != tc.want.HasGroups {
			t.Errorf("%s: %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}

func TestFlowMatchesOnlyItsStateInTime(t *testing.T) {
	now := time.Now()
	f := NewFlow("https://beacon.example/auth/oidc/callback", "/topics", now)
	back, err := DecodeFlow(f.Encode())
	if err != nil || !back.Expires.Equal(f.Expires) {
		t.Fatalf("decoded %+v, %v; want %+v", back, err, f)
	}
	if back.Expires = f.Expires; back != f {
		t.Fatalf("decoded %+v, %v; want %+v", back, err, f)
	}
	if other := NewFlow("", "", now); other.State == f.State || other.Nonce == f.Nonce || other.Verifier == f.Verifier {
		t.Fatal("two flows share a secret")
	}
	switch {
	case !f.Matches(f.State, now):
		t.Error("its own state refused")
	case f.Matches(f.State+"x", now), f.Matches("", now):
		t.Error("another state accepted")
	case f.Matches(f.State, now.Add(FlowLifetime)):
		t.Error("accepted after its lifetime")
	case (Flow{}).Matches("", now):
		t.Error("no flow matched an empty state")
	}
}
