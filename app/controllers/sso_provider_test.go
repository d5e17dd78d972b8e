package controllers_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"beacon/app/apptest"
)

// The single sign-on tests run a real OpenID Connect provider, mockoidc,
// in the test process: Beacon discovers it, sends browsers to its
// authorize endpoint, trades codes at its token endpoint and verifies the
// ID tokens it signs against its published keys. Its authorize endpoint
// signs in at once whoever the test queued (a person), with no form.

// startProvider runs a provider until the test ends.
func startProvider(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	return m
}

// ssoEnv is the environment that points Beacon at m, with extra settings.
func ssoEnv(m *mockoidc.MockOIDC, extra map[string]string) map[string]string {
	env := map[string]string{
		"OIDC_ISSUER":        m.Issuer(),
		"OIDC_CLIENT_ID":     m.ClientID,
		"OIDC_CLIENT_SECRET": m.ClientSecret,
		"OIDC_NAME":          "Acme ID",
		// mockoidc puts the groups claim in only for the groups scope, as Dex does.
		"OIDC_SCOPES": "openid email profile groups",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// person is someone the provider signs in, with the claims the tests need
// and mockoidc.MockUser lacks: name, email_verified false (MockUser omits
// it), a groups claim that is absent or empty, a token for another client,
// of another sign-in (nonce) or already expired.
type person struct {
	sub, email, name string
	verified         bool
	groups           []string // nil: no groups claim
	audience         string   // "": the client's own
	nonce            string   // "": the one Beacon sent
	expired          bool
}

func (p person) ID() string { return p.sub }

func (p person) Userinfo([]string) ([]byte, error) {
	return json.Marshal(map[string]any{"sub": p.sub, "email": p.email})
}

type personClaims struct {
	*mockoidc.IDTokenClaims
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified"`
	Name          string `json:"name,omitempty"`
	Groups        any    `json:"groups,omitempty"`
}

func (p person) Claims(_ []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	if p.audience != "" {
		base.Audience = jwt.ClaimStrings{p.audience}
	}
	if p.nonce != "" {
		base.Nonce = p.nonce
	}
	if p.expired {
		base.IssuedAt = jwt.NewNumericDate(time.Now().Add(-2 * time.Hour))
		base.NotBefore = base.IssuedAt
		base.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Hour))
	}
	c := &personClaims{IDTokenClaims: base, Email: p.email, EmailVerified: p.verified, Name: p.name}
	if p.groups != nil {
		c.Groups = p.groups
	}
	return c, nil
}

// ssoVisit is one pass through the code flow as a browser makes it.
type ssoVisit struct {
	authorize *url.URL // where Beacon sent the browser at the provider
	callback  string   // where the provider sent it back (Beacon's callback, with code and state)
	resp      *http.Response
	body      string // Beacon's answer to the callback
}

// ssoSignIn follows the flow from start (such as "/auth/oidc") through the
// provider, which signs in whoever is queued, back to Beacon's callback.
func ssoSignIn(t *testing.T, c *apptest.Client, start string) ssoVisit {
	t.Helper()
	v := ssoVisit{authorize: ssoAuthorize(t, c, start)}
	v.callback = ssoCallbackURL(t, c, v.authorize)
	v.resp, v.body = getURL(t, c, v.callback)
	return v
}

// ssoAuthorize starts the flow and returns the provider's address Beacon
// sent the browser to.
func ssoAuthorize(t *testing.T, c *apptest.Client, start string) *url.URL {
	t.Helper()
	resp, body := c.Get(t, start)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET %s: %d, want 303 to the provider\n%s", start, resp.StatusCode, body)
	}
	return mustURL(t, resp.Header.Get("Location"))
}

// ssoCallbackURL visits the provider's authorize address and returns
// where it sends the browser back.
func ssoCallbackURL(t *testing.T, c *apptest.Client, authorize *url.URL) string {
	t.Helper()
	resp, body := getURL(t, c, authorize.String())
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("provider's authorize: %d, want 302 back to Beacon\n%s", resp.StatusCode, body)
	}
	return resp.Header.Get("Location")
}

// getURL fetches an absolute address with c's cookies, not following redirects.
func getURL(t *testing.T, c *apptest.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// withQuery is u with its query parameter key set to v ("" removes it).
func withQuery(t *testing.T, u, key, v string) string {
	t.Helper()
	p := mustURL(t, u)
	q := p.Query()
	if v == "" {
		q.Del(key)
	} else {
		q.Set(key, v)
	}
	p.RawQuery = q.Encode()
	return p.String()
}

// deadAddress is a local address nothing listens on (for now).
func deadAddress(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
