package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// OIDC is single sign-on through an OpenID Connect provider. It is on when
// Issuer is set (and with it ClientID and ClientSecret).
type OIDC struct {
	Issuer       string // OIDC_ISSUER: discovery reads ISSUER/.well-known/openid-configuration
	ClientID     string // OIDC_CLIENT_ID
	ClientSecret string // OIDC_CLIENT_SECRET
	// Name is what the sign-in page offers to sign in with (OIDC_NAME,
	// default "single sign-on").
	Name string
	// RedirectURL is where the provider sends the browser back
	// (OIDC_REDIRECT_URL); "" builds <scheme>://<host>/auth/oidc/callback
	// from each request.
	RedirectURL string
	// Scopes are asked of the provider (OIDC_SCOPES, space or comma
	// separated, default "openid email profile"; openid is always asked).
	Scopes []string
	// GroupsClaim is the ID token's claim listing the user's groups
	// (OIDC_GROUPS_CLAIM, default "groups").
	GroupsClaim string
	// AdminGroup makes its members admins and takes admin from everyone
	// else who signs in (OIDC_ADMIN_GROUP); "" leaves admin rights alone.
	AdminGroup string
}

// On reports whether single sign-on is configured.
func (o OIDC) On() bool { return o.Issuer != "" }

// DefaultOIDCScopes are the scopes asked when OIDC_SCOPES is unset.
var DefaultOIDCScopes = []string{"openid", "email", "profile"}

// LoadOIDC reads the OIDC_* settings. The issuer, client id and secret come
// all three or not at all: a half-configured provider is a start error,
// not a sign-in button that fails.
func LoadOIDC(getenv func(string) string) (OIDC, error) {
	o := OIDC{
		Issuer:       strings.TrimSpace(getenv("OIDC_ISSUER")),
		ClientID:     strings.TrimSpace(getenv("OIDC_CLIENT_ID")),
		ClientSecret: getenv("OIDC_CLIENT_SECRET"),
		Name:         or(strings.TrimSpace(getenv("OIDC_NAME")), "single sign-on"),
		RedirectURL:  strings.TrimSpace(getenv("OIDC_REDIRECT_URL")),
		GroupsClaim:  or(strings.TrimSpace(getenv("OIDC_GROUPS_CLAIM")), "groups"),
		AdminGroup:   strings.TrimSpace(getenv("OIDC_ADMIN_GROUP")),
	}
	var set, unset []string
	for _, s := range []struct{ name, v string }{{"OIDC_ISSUER", o.Issuer}, {"OIDC_CLIENT_ID", o.ClientID}, {"OIDC_CLIENT_SECRET", o.ClientSecret}} {
		if s.v == "" {
			unset = append(unset, s.name)
		} else {
			set = append(set, s.name)
		}
	}
	if len(set) == 0 {
		return OIDC{}, nil
	}
	if len(unset) > 0 {
		return o, fmt.Errorf("config: %s set but %s not: single sign-on needs OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET (or none of them)",
			strings.Join(set, ", "), strings.Join(unset, ", "))
	}
	if !absoluteHTTP(o.Issuer) {
		return o, fmt.Errorf("config: OIDC_ISSUER %q is not an http:// or https:// URL", o.Issuer)
	}
	if o.RedirectURL != "" && !absoluteHTTP(o.RedirectURL) {
		return o, fmt.Errorf("config: OIDC_REDIRECT_URL %q is not an http:// or https:// URL", o.RedirectURL)
	}
	o.Scopes = strings.FieldsFunc(getenv("OIDC_SCOPES"), func(r rune) bool { return r == ',' || r == ' ' })
	if len(o.Scopes) == 0 {
		o.Scopes = slices.Clone(DefaultOIDCScopes)
	}
	if !slices.Contains(o.Scopes, "openid") {
		o.Scopes = append([]string{"openid"}, o.Scopes...)
	}
	return o, nil
}

func absoluteHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
