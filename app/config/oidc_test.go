package config

import (
	"slices"
	"strings"
	"testing"
)

var oidcSet = map[string]string{
	"OIDC_ISSUER": "https://id.example.com/realms/acme", "OIDC_CLIENT_ID": "beacon", "OIDC_CLIENT_SECRET": "s3cret",
}

func withOIDC(extra map[string]string) map[string]string {
	m := map[string]string{}
	for k, v := range oidcSet {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func TestOIDCOffByDefault(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.OIDC.On() || c.OIDC.Issuer != "" || c.OIDC.Scopes != nil || !c.PasswordLogin || !c.Signup {
		t.Fatalf("defaults: OIDC %+v, password login %v, signup %v", c.OIDC, c.PasswordLogin, c.Signup)
	}
}

func TestOIDCDefaults(t *testing.T) {
	c, err := Load(env(oidcSet))
	if err != nil {
		t.Fatal(err)
	}
	o := c.OIDC
	if !o.On() || o.Issuer != oidcSet["OIDC_ISSUER"] || o.ClientID != "beacon" || o.ClientSecret != "s3cret" ||
		o.Name != "single sign-on" || o.RedirectURL != "" || o.GroupsClaim != "groups" || o.AdminGroup != "" ||
		!slices.Equal(o.Scopes, []string{"openid", "email", "profile"}) || !c.PasswordLogin || !c.Signup {
		t.Fatalf("OIDC defaults: %+v (password login %v, signup %v)", o, c.PasswordLogin, c.Signup)
	}
}

func TestOIDCSettings(t *testing.T) {
	c, err := Load(env(withOIDC(map[string]string{
		"OIDC_NAME": "Acme ID", "OIDC_REDIRECT_URL": "https://beacon.example.com/auth/oidc/callback",
		"OIDC_GROUPS_CLAIM": "roles", "OIDC_ADMIN_GROUP": "beacon-admins", "OIDC_SCOPES": "email, profile groups",
		"PASSWORD_LOGIN": "false", "SIGNUP": "true",
	})))
	if err != nil {
		t.Fatal(err)
	}
	o := c.OIDC
	if o.Name != "Acme ID" || o.RedirectURL != "https://beacon.example.com/auth/oidc/callback" || o.GroupsClaim != "roles" ||
		o.AdminGroup != "beacon-admins" || !slices.Equal(o.Scopes, []string{"openid", "email", "profile", "groups"}) {
		t.Fatalf("OIDC settings: %+v", o)
	}
	// Sign-up makes password accounts, which could not sign in.
	if c.PasswordLogin || c.Signup {
		t.Fatalf("PASSWORD_LOGIN=false: password login %v, signup %v; want both off", c.PasswordLogin, c.Signup)
	}
}

func TestOIDCRefusesHalfASetting(t *testing.T) {
	for name, tc := range map[string]struct {
		env  map[string]string
		want string // in the error
	}{
		"issuer alone":              {map[string]string{"OIDC_ISSUER": "https://id.example.com"}, "OIDC_CLIENT_ID, OIDC_CLIENT_SECRET not"},
		"no secret":                 {map[string]string{"OIDC_ISSUER": "https://id.example.com", "OIDC_CLIENT_ID": "b"}, "OIDC_CLIENT_SECRET not"},
		"secret alone":              {map[string]string{"OIDC_CLIENT_SECRET": "s"}, "OIDC_ISSUER, OIDC_CLIENT_ID not"},
		"issuer not a URL":          {withOIDC(map[string]string{"OIDC_ISSUER": "id.example.com"}), "OIDC_ISSUER"},
		"redirect not a URL":        {withOIDC(map[string]string{"OIDC_REDIRECT_URL": "/auth/oidc/callback"}), "OIDC_REDIRECT_URL"},
		"password login not a bool": {withOIDC(map[string]string{"PASSWORD_LOGIN": "sometimes"}), "PASSWORD_LOGIN"},
		// Nobody could sign in.
		"no password login without OIDC": {map[string]string{"PASSWORD_LOGIN": "false"}, "PASSWORD_LOGIN=false needs single sign-on"},
	} {
		_, err := Load(env(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", name, err, tc.want)
		}
	}
}
