package controllers_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"beacon/app/apptest"
	"beacon/app/store"
)

// A new person signs in through the provider: Beacon asks with PKCE
// (S256), state and nonce, and makes them an account named after them,
// with no password that works, under a new session id.
func TestSSOSignsInANewPerson(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		m := startProvider(t)
		opts.Env = ssoEnv(m, nil)
		app := apptest.New(t, opts)
		c := app.Client(t)

		_, page := c.Get(t, "/login")
		if !strings.Contains(page, `href="/auth/oidc"`) || !strings.Contains(page, "Sign in with Acme ID") || !strings.Contains(page, `name="password"`) {
			t.Fatalf("sign-in page without both ways to sign in:\n%s", page)
		}
		before := c.Cookie(sessionCookie)
		m.QueueUser(person{sub: "zoe-1", email: "Zoe@Example.com", name: " Zoë\u202e \n Example ", verified: true})
		v := ssoSignIn(t, c, "/auth/oidc")
		q := v.authorize.Query()
		if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" || q.Get("nonce") == "" ||
			q.Get("code_verifier") != "" || q.Get("redirect_uri") != app.URL+"/auth/oidc/callback" {
			t.Fatalf("authorize request %s: want S256 PKCE, state, nonce and the callback, no verifier", v.authorize)
		}
		if v.resp.StatusCode != http.StatusSeeOther || v.resp.Header.Get("Location") != "/" {
			t.Fatalf("callback: %d to %q, want 303 to /\n%s", v.resp.StatusCode, v.resp.Header.Get("Location"), v.body)
		}
		if after := c.Cookie(sessionCookie); after == "" || after == before {
			t.Fatalf("session cookie %q after sign-in, %q before: want a new one", after, before)
		}
		// The name is cleaned to pass the account rules: no control or
		// invisible characters, spaces folded.
		if !signedInAs(t, c, "Zoë Example") {
			t.Fatal("not signed in as Zoë Example")
		}
		u, err := app.Store.UserByEmail(context.Background(), "zoe@example.com")
		if err != nil || u.Admin || u.Name != "Zoë Example" {
			t.Fatalf("stored user %+v, %v", u, err)
		}
		// No password signs in to an account made by single sign-on.
		for _, pw := range []string{"", " ", u.PasswordHash} {
			other := app.Client(t)
			resp, _ := other.PostForm(t, "/login", url.Values{"email": {u.Email}, "password": {pw}})
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("password %q for an SSO account: %d, want 422", pw, resp.StatusCode)
			}
		}

		// A second sign-in is the same account, not another.
		c.Logout(t)
		m.QueueUser(person{sub: "zoe-1", email: "zoe@example.com", name: "Zoë Renamed", verified: true})
		if v := ssoSignIn(t, c, "/auth/oidc"); v.resp.StatusCode != http.StatusSeeOther || !signedInAs(t, c, "Zoë Example") {
			t.Fatalf("second sign-in: %d\n%s", v.resp.StatusCode, v.body)
		}
	})
}

// A person whose email an account has is that account: its name stays,
// its password keeps working, and ?next= sends them on, but only to a
// path on this site.
func TestSSOSignsInAnExistingUser(t *testing.T) {
	t.Parallel()
	m := startProvider(t)
	app := apptest.New(t, apptest.Options{Env: ssoEnv(m, nil)})
	bea := app.CreateUser(t, "Bea", "bea@example.com", "long enough", false)

	for next, want := range map[string]string{
		"/topics?x=1":           "/topics?x=1",
		"//evil.example/":       "/",
		"https://evil.example/": "/",
		"/\\evil.example":       "/",
		"/\t/evil.example":      "/",
		"javascript:alert(1)":   "/",
		"":                      "/",
	} {
		c := app.Client(t)
		m.QueueUser(person{sub: "b", email: "BEA@example.com", name: "Beatrice", verified: true})
		v := ssoSignIn(t, c, "/auth/oidc?next="+url.QueryEscape(next))
		if v.resp.StatusCode != http.StatusSeeOther || v.resp.Header.Get("Location") != want {
			t.Fatalf("next %q: %d to %q, want 303 to %q\n%s", next, v.resp.StatusCode, v.resp.Header.Get("Location"), want, v.body)
		}
		if !signedInAs(t, c, "Bea") {
			t.Fatalf("next %q: not signed in as Bea", next)
		}
		// Signed in already: straight on, without the provider.
		if resp, _ := c.Get(t, "/auth/oidc?next="+url.QueryEscape(next)); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Fatalf("next %q, signed in: %d to %q, want 303 to %q", next, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	if u, err := app.Store.UserByEmail(context.Background(), "bea@example.com"); err != nil || u.ID != bea.ID || u.Name != "Bea" {
		t.Fatalf("Bea after single sign-on: %+v, %v", u, err)
	}
	app.Client(t).Login(t, "bea@example.com", "long enough")
}

// Whoever the provider does not vouch for by a verified email is refused
// with a page saying why, and no account is made.
func TestSSORefusesUnverifiedEmail(t *testing.T) {
	t.Parallel()
	m := startProvider(t)
	app := apptest.New(t, apptest.Options{Env: ssoEnv(m, nil)})
	for _, tc := range []struct {
		who  person
		want string
	}{
		{person{sub: "u1", email: "una@example.com", name: "Una"}, "not verified"},
		{person{sub: "u2", name: "Nobody", verified: true}, "did not tell Beacon your email"},
		{person{sub: "u3", email: "not an email", name: "Odd", verified: true}, "not one Beacon can use"},
	} {
		c := app.Client(t)
		m.QueueUser(tc.who)
		v := ssoSignIn(t, c, "/auth/oidc")
		if v.resp.StatusCode != http.StatusForbidden || !strings.Contains(v.body, tc.want) {
			t.Fatalf("%+v: %d, want 403 saying %q\n%s", tc.who, v.resp.StatusCode, tc.want, v.body)
		}
		if signedIn(t, c) {
			t.Fatalf("%+v: signed in", tc.who)
		}
	}
	assertUsers(t, app, 0)
}

// The callback accepts only a flow this browser started, with its own
// state, once: a missing or wrong state, another browser's callback, and
// the same callback again are refused, and nothing is made.
func TestSSOChecksState(t *testing.T) {
	t.Parallel()
	m := startProvider(t)
	app := apptest.New(t, apptest.Options{Env: ssoEnv(m, nil)})
	refused := func(name string, c *apptest.Client, callback string) {
		t.Helper()
		resp, body := getURL(t, c, callback)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "not started in this browser") {
			t.Fatalf("%s: %d, want 400 with a message\n%s", name, resp.StatusCode, body)
		}
		if signedIn(t, c) {
			t.Fatalf("%s: signed in", name)
		}
	}
	who := person{sub: "s", email: "sam@example.com", name: "Sam", verified: true}

	for _, tc := range []struct{ name, state string }{{"no state", ""}, {"wrong state", "forged"}} {
		c := app.Client(t)
		m.QueueUser(who)
		callback := ssoCallbackURL(t, c, ssoAuthorize(t, c, "/auth/oidc"))
		refused(tc.name, c, withQuery(t, callback, "state", tc.state))
		// The flow is spent: its own callback fails afterwards too.
		refused(tc.name+", then the right one", c, callback)
	}

	// A callback carried to another browser (a login CSRF) is refused there.
	m.QueueUser(who)
	victim, attacker := app.Client(t), app.Client(t)
	refused("another browser's callback", victim, ssoCallbackURL(t, attacker, ssoAuthorize(t, attacker, "/auth/oidc")))
	// A callback without any flow started.
	refused("no flow", app.Client(t), app.URL+"/auth/oidc/callback?code=x&state=y")
	assertUsers(t, app, 0)

	// The same callback twice: the first signs in, the second is refused.
	c := app.Client(t)
	m.QueueUser(who)
	v := ssoSignIn(t, c, "/auth/oidc")
	if v.resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d\n%s", v.resp.StatusCode, v.body)
	}
	c.Logout(t)
	refused("the callback again", c, v.callback)
}

// A code that was used is refused by the provider even in a new flow of
// the same browser, with its own right state.
func TestSSORefusesAReplayedCode(t *testing.T) {
	t.Parallel()
	m := startProvider(t)
	app := apptest.New(t, apptest.Options{Env: ssoEnv(m, nil)})
	c := app.Client(t)
	m.QueueUser(person{sub: "r", email: "ray@example.com", name: "Ray", verified: true})
	first := ssoSignIn(t, c, "/auth/oidc")
	if first.resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d\n%s", first.resp.StatusCode, first.body)
	}
	c.Logout(t)

	m.QueueUser(person{sub: "m", email: "mallory@example.com", name: "Mallory", verified: true})
	fresh := ssoCallbackURL(t, c, ssoAuthorize(t, c, "/auth/oidc"))
	used := mustURL(t, first.callback).Query().Get("code")
	resp, body := getURL(t, c, withQuery(t, fresh, "code", used))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "could not be accepted") {
		t.Fatalf("replayed code: %d, want 400 with a message\n%s", resp.StatusCode, body)
	}
	if signedIn(t, c) {
		t.Fatal("signed in with a replayed code")
	}
	assertUsers(t, app, 1) // Ray alone
}

// An ID token that is expired, made for another client or for another
// sign-in (its nonce) is refused, and the log says why without the token.
func TestSSORefusesExpiredAndForeignTokens(t *testing.T) {
	t.Parallel()
	m := startProvider(t)
	var log apptest.LogBuffer
	app := apptest.New(t, apptest.Options{Env: ssoEnv(m, nil), Log: &log})
	for _, tc := range []struct {
		who    person
		logged string
	}{
		{person{sub: "e", email: "eve@example.com", name: "Eve", verified: true, expired: true}, "expired"},
		{person{sub: "f", email: "fay@example.com", name: "Fay", verified: true, audience: "another-client"}, "audience"},
		{person{sub: "n", email: "ned@example.com", name: "Ned", verified: true, nonce: "another-sign-in"}, "nonce"},
	} {
		c := app.Client(t)
		m.QueueUser(tc.who)
		v := ssoSignIn(t, c, "/auth/oidc")
		if v.resp.StatusCode != http.StatusBadRequest || !strings.Contains(v.body, "could not be accepted") {
			t.Fatalf("%+v: %d, want 400 with a message\n%s", tc.who, v.resp.StatusCode, v.body)
		}
		if signedIn(t, c) {
			t.Fatalf("%+v: signed in", tc.who)
		}
		if !strings.Contains(log.String(), tc.logged) {
			t.Fatalf("%+v: the log does not say %q:\n%s", tc.who, tc.logged, log.String())
		}
	}
	assertUsers(t, app, 0)
	// A JWT starts with the base64 of `{"`: none is in the log.
	if strings.Contains(log.String(), "eyJ") {
		t.Fatalf("a token in the log:\n%s", log.String())
	}
}

// At every sign-in the person's membership of Beacon's groups follows the
// groups claim: closed groups named are joined and those not named left;
// topics named are followed, others left to the person; names that are no
// group are ignored. A change resets the person's open streams.
func TestSSOGroupsFollowTheClaim(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		m := startProvider(t)
		opts.Env = ssoEnv(m, nil)
		app, _, token := apptest.WithAdmin(t, opts)
		ctx := context.Background()
		for _, g := range []struct {
			name string
			open bool
		}{{"ops", false}, {"dev", false}, {"news", true}, {"art", true}} {
			if _, err := app.Store.CreateGroup(ctx, g.name, g.open); err != nil {
				t.Fatal(err)
			}
		}
		signIn := func(c *apptest.Client, groups []string) {
			t.Helper()
			m.QueueUser(person{sub: "g", email: "gil@example.com", name: "Gil", verified: true, groups: groups})
			if v := ssoSignIn(t, c, "/auth/oidc"); v.resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in with groups %q: %d\n%s", groups, v.resp.StatusCode, v.body)
			}
		}
		groupsOf := func() []string {
			t.Helper()
			u, err := app.Store.UserByEmail(ctx, "gil@example.com")
			if err != nil {
				t.Fatal(err)
			}
			return groupNames(t, app, u.ID)
		}

		first := app.Client(t)
		signIn(first, []string{"ops", "news", "unknown"})
		if got := groupsOf(); !slices.Equal(got, []string{"news", "ops"}) {
			t.Fatalf("groups after the first sign-in: %q, want news, ops", got)
		}
		if _, err := app.Store.GroupByName(ctx, "unknown"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a group named in the claim was made: %v", err)
		}
		// Gil follows a topic himself: the claim does not undo that.
		if resp, body := first.PostForm(t, "/topics/art/follow", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("follow art: %d\n%s", resp.StatusCode, body)
		}

		stream := first.OpenStream(t, "")
		defer stream.Close()
		readUntil(t, stream, app.Notify(t, token, map[string]string{"title": "marker"})) // the stream is live

		// In another browser the provider now says dev, not ops: Gil's
		// open stream is reset, and the change is logged for every
		// instance (the membership's stream position moves).
		gil, err := app.Store.UserByEmail(ctx, "gil@example.com")
		if err != nil {
			t.Fatal(err)
		}
		_, before, err := app.Store.Membership(ctx, gil.ID)
		if err != nil {
			t.Fatal(err)
		}
		signIn(app.Client(t), []string{"dev"})
		if got := groupsOf(); !slices.Equal(got, []string{"art", "dev", "news"}) {
			t.Fatalf("groups after the claim changed: %q, want art, dev, news", got)
		}
		awaitEvent(t, stream, "reset")
		if _, after, err := app.Store.Membership(ctx, gil.ID); err != nil || after <= before {
			t.Fatalf("membership position %d after the change, %d before (%v): want it moved", after, before, err)
		}

		// An empty claim is in no closed group; no claim changes nothing.
		signIn(app.Client(t), []string{})
		if got := groupsOf(); !slices.Equal(got, []string{"art", "news"}) {
			t.Fatalf("groups after an empty claim: %q, want art, news", got)
		}
		signIn(app.Client(t), nil)
		if got := groupsOf(); !slices.Equal(got, []string{"art", "news"}) {
			t.Fatalf("groups after a sign-in without the claim: %q, want art, news", got)
		}
	})
}

// With OIDC_ADMIN_GROUP, its members become admins at sign-in, and an
// admin who left it is one no more, API tokens gone with it.
func TestSSOAdminGroup(t *testing.T) {
	t.Parallel()
	m := startProvider(t)
	app := apptest.New(t, apptest.Options{Env: ssoEnv(m, map[string]string{"OIDC_ADMIN_GROUP": "beacon-admins"})})
	signIn := func(groups []string) *apptest.Client {
		t.Helper()
		c := app.Client(t)
		m.QueueUser(person{sub: "a", email: "ana@example.com", name: "Ana", verified: true, groups: groups})
		v := ssoSignIn(t, c, "/auth/oidc")
		if v.resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in with %q: %d\n%s", groups, v.resp.StatusCode, v.body)
		}
		return c
	}
	adminPage := func(c *apptest.Client) int {
		t.Helper()
		resp, _ := c.Get(t, "/admin/notifications")
		return resp.StatusCode
	}

	c := signIn([]string{"staff"})
	if adminPage(c) != http.StatusForbidden {
		t.Fatal("an admin without the admin group")
	}
	c = signIn([]string{"staff", "beacon-admins"})
	if code := adminPage(c); code != http.StatusOK {
		t.Fatalf("in the admin group: admin page %d, want 200", code)
	}
	ana, err := app.Store.UserByEmail(context.Background(), "ana@example.com")
	if err != nil || !ana.Admin {
		t.Fatalf("Ana in the admin group: %+v, %v", ana, err)
	}
	token := app.Token(t, ana)
	if resp, body := app.PostAPI(t, token, map[string]any{"title": "hello"}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("post as admin: %d %s", resp.StatusCode, body)
	}

	// Out of the group; and a token without the claim is in no group.
	for _, groups := range [][]string{{"staff"}, nil} {
		if err := app.Store.GrantAdmin(context.Background(), ana.ID); err != nil {
			t.Fatal(err)
		}
		signIn(groups)
		if adminPage(c) != http.StatusForbidden { // the earlier session, too
			t.Fatalf("groups %q: still an admin", groups)
		}
	}
	if resp, _ := app.PostAPI(t, token, map[string]any{"title": "after"}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the former admin's API token: %d, want 401", resp.StatusCode)
	}
}

// Without OIDC_ADMIN_GROUP, admin rights are Beacon's own: a sign-in
// without any admin group leaves an admin one.
func TestSSOLeavesAdminAloneWithoutAdminGroup(t *testing.T) {
	t.Parallel()
	m := startProvider(t)
	app := apptest.New(t, apptest.Options{Env: ssoEnv(m, nil)})
	app.CreateUser(t, "Ada", "ada@example.com", "long enough", true)
	c := app.Client(t)
	m.QueueUser(person{sub: "ada", email: "ada@example.com", name: "Ada", verified: true, groups: []string{}})
	v := ssoSignIn(t, c, "/auth/oidc")
	if v.resp.StatusCode != http.StatusSeeOther || v.resp.Header.Get("Location") != "/admin/notifications" {
		t.Fatalf("admin's sign-in: %d to %q\n%s", v.resp.StatusCode, v.resp.Header.Get("Location"), v.body)
	}
}

// PASSWORD_LOGIN=false: the sign-in page offers the provider only,
// POST /login is refused even with the right password, and there is no
// sign-up.
func TestPasswordLoginOff(t *testing.T) {
	t.Parallel()
	m := startProvider(t)
	app := apptest.New(t, apptest.Options{Env: ssoEnv(m, map[string]string{"PASSWORD_LOGIN": "false"})})
	app.CreateUser(t, "Pat", "pat@example.com", "long enough", false)
	c := app.Client(t)
	_, page := c.Get(t, "/login")
	if !strings.Contains(page, "Sign in with Acme ID") || strings.Contains(page, `name="password"`) || strings.Contains(page, `href="/signup"`) {
		t.Fatalf("sign-in page with PASSWORD_LOGIN=false:\n%s", page)
	}
	if resp, _ := c.Get(t, "/signup"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /signup: %d, want 404", resp.StatusCode)
	}

	// Signed in through the provider, with a good CSRF token from the
	// feed, a password sign-in as Pat is still refused.
	m.QueueUser(person{sub: "q", email: "quinn@example.com", name: "Quinn", verified: true})
	if v := ssoSignIn(t, c, "/auth/oidc"); v.resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d\n%s", v.resp.StatusCode, v.body)
	}
	resp, body := c.PostForm(t, "/login", url.Values{"email": {"pat@example.com"}, "password": {"long enough"}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "turned off") {
		t.Fatalf("POST /login: %d, want 403 saying password sign-in is off\n%s", resp.StatusCode, body)
	}
	if !signedInAs(t, c, "Quinn") {
		t.Fatal("no longer Quinn after a refused password sign-in")
	}
}

// Without OIDC_* there is no single sign-on: no link, no routes.
func TestSSOOff(t *testing.T) {
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	c := app.Client(t)
	if _, page := c.Get(t, "/login"); strings.Contains(page, "/auth/oidc") || !strings.Contains(page, `name="password"`) {
		t.Fatalf("sign-in page without OIDC:\n%s", page)
	}
	for _, path := range []string{"/auth/oidc", "/auth/oidc/callback?code=x&state=y"} {
		if resp, _ := c.Get(t, path); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("GET %s without OIDC: %d, want 404", path, resp.StatusCode)
		}
	}
}

// Beacon starts while the provider is down; then single sign-on says so
// on a clear page, password sign-in still works, and once the provider
// is up, discovery is tried again and works.
func TestSSOProviderDown(t *testing.T) {
	t.Parallel()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := deadAddress(t)
	app := apptest.New(t, apptest.Options{Env: map[string]string{
		"OIDC_ISSUER": "http://" + addr + mockoidc.IssuerBase, "OIDC_CLIENT_ID": m.ClientID, "OIDC_CLIENT_SECRET": m.ClientSecret,
		"OIDC_NAME": "Acme ID",
	}})
	app.CreateUser(t, "Pat", "pat@example.com", "long enough", false)
	c := app.Client(t)
	for range 2 { // tried again, not remembered as down
		resp, body := c.Get(t, "/auth/oidc")
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "Acme ID cannot be reached") ||
			!strings.Contains(body, `name="password"`) {
			t.Fatalf("provider down: %d, want 503 with the message and the password form\n%s", resp.StatusCode, body)
		}
	}
	c.Login(t, "pat@example.com", "long enough")
	c.Logout(t)

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	m.QueueUser(person{sub: "p", email: "pat@example.com", name: "Pat", verified: true})
	if v := ssoSignIn(t, c, "/auth/oidc"); v.resp.StatusCode != http.StatusSeeOther || !signedInAs(t, c, "Pat") {
		t.Fatalf("sign-in once the provider is up: %d\n%s", v.resp.StatusCode, v.body)
	}

	// Down again after discovery, between the authorize step and the
	// callback: the token endpoint cannot be reached.
	c = app.Client(t)
	m.QueueUser(person{sub: "n", email: "nat@example.com", name: "Nat", verified: true})
	callback := ssoCallbackURL(t, c, ssoAuthorize(t, c, "/auth/oidc"))
	m.Shutdown()
	resp, body := getURL(t, c, callback)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "Acme ID cannot be reached") {
		t.Fatalf("token endpoint down: %d, want 503 with a message\n%s", resp.StatusCode, body)
	}
	assertUsers(t, app, 1) // Pat alone
}

// assertUsers fails the test unless there are n users.
func assertUsers(t *testing.T, app *apptest.App, n int) {
	t.Helper()
	var got int
	if err := app.Store.SQL().QueryRow("SELECT count(*) FROM users").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Fatalf("%d users, want %d", got, n)
	}
}

// groupNames are the names of the groups the user is in, sorted.
func groupNames(t *testing.T, app *apptest.App, userID int64) []string {
	t.Helper()
	ids, err := app.Store.GroupIDsOf(context.Background(), userID)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := app.Store.Groups(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range groups {
		if slices.Contains(ids, g.ID) {
			names = append(names, g.Name)
		}
	}
	slices.Sort(names)
	return names
}

// awaitEvent reads s until an event called name, within a few seconds.
func awaitEvent(t *testing.T, s *apptest.Stream, name string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if ev := s.NextEvent(t, time.Until(deadline)); ev.Event == name {
			return
		}
	}
}
