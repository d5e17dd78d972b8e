package sso

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Identity is who a verified ID token says signed in.
type Identity struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string // the name claim; may be ""
	// Groups are the names in the groups claim; HasGroups says whether the
	// token carried that claim at all (an empty list is "in no group",
	// no claim is "the provider does not say").
	Groups    []string
	HasGroups bool
}

// identity reads the claims Beacon uses from a verified ID token.
func identity(t *oidc.IDToken, groupsClaim string) (Identity, error) {
	var claims map[string]json.RawMessage
	if err := t.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("read claims: %w", err)
	}
	return readClaims(t.Subject, claims, groupsClaim)
}

// readClaims takes what Identity holds out of an ID token's claims.
func readClaims(subject string, claims map[string]json.RawMessage, groupsClaim string) (Identity, error) {
	id := Identity{Subject: subject}
	if raw, ok := claims["email"]; ok {
		if err := json.Unmarshal(raw, &id.Email); err != nil {
			return id, fmt.Errorf("email claim is not a string")
		}
	}
	if raw, ok := claims["email_verified"]; ok {
		// Some providers send the string "true" (older Cognito, some LDAP
		// bridges); anything else is not verified.
		var b bool
		var s string
		switch {
		case json.Unmarshal(raw, &b) == nil:
			id.EmailVerified = b
		case json.Unmarshal(raw, &s) == nil:
			id.EmailVerified = strings.EqualFold(s, "true")
		}
	}
	if raw, ok := claims["name"]; ok {
		_ = json.Unmarshal(raw, &id.Name) // a name that is not a string is no name
	}
	if raw, ok := claims[groupsClaim]; ok && string(raw) != "null" {
		groups, err := names(raw)
		if err != nil {
			return id, fmt.Errorf("%s claim: %w", groupsClaim, err)
		}
		id.Groups, id.HasGroups = groups, true
	}
	return id, nil
}

// names reads a groups claim: a list of strings, or one string.
func names(raw json.RawMessage) ([]string, error) {
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		return list, nil
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	return nil, fmt.Errorf("not a list of names")
}
