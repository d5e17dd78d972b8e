package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"beacon/app/apptest"
)

// A person signs in through the identity provider from /login with one
// click (mockoidc, in the test process, signs in whoever is queued without
// a form), lands on their feed signed in, in the provider's groups; with
// PASSWORD_LOGIN=false the page offers nothing else.
func TestSignInThroughTheIdentityProvider(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	app := apptest.New(t, apptest.Options{Env: map[string]string{
		"OIDC_ISSUER":        m.Issuer(),
		"OIDC_CLIENT_ID":     m.ClientID,
		"OIDC_CLIENT_SECRET": m.ClientSecret,
		"OIDC_NAME":          "Acme ID",
		"OIDC_SCOPES":        "openid email profile groups",
		"PASSWORD_LOGIN":     "false",
	}})
	if _, err := app.Store.CreateGroup(t.Context(), "ops", false); err != nil {
		t.Fatal(err)
	}
	m.QueueUser(&mockoidc.MockUser{Subject: "pat-1", Email: "pat@example.com", EmailVerified: true, Groups: []string{"ops"}})

	tab := newTab(t)
	console := watchConsole(t, tab)
	open(t, tab, app.URL+"/login", http.StatusOK)
	form := eval[map[string]bool](t, tab, `({
		password: document.querySelector('input[type=password]') !== null,
		sso: Array.from(document.querySelectorAll("a, button")).some(e => e.textContent.includes("Sign in with Acme ID")),
	})`)
	if form["password"] || !form["sso"] {
		t.Fatalf("/login with PASSWORD_LOGIN=false: %v, want only the provider's button", form)
	}
	// Beacon, the provider, Beacon's callback, the feed: one navigation.
	if status := submit(t, tab, "#sso-sign-in"); status != http.StatusOK {
		t.Fatalf("signing in through the provider ended on %d", status)
	}
	waitUntil(t, tab, "the feed, signed in", `location.pathname === "/" && document.getElementById("unread-count") !== null`, 5*time.Second)
	u, err := app.Store.UserByEmail(t.Context(), "pat@example.com")
	if err != nil {
		t.Fatalf("no account after signing in: %v", err)
	}
	groups, err := app.Store.GroupIDsOf(t.Context(), u.ID)
	if err != nil || len(groups) != 1 {
		t.Errorf("pat's groups after signing in: %v %v, want ops", groups, err)
	}
	console.noProblems(t, "signing in through the provider")
}
