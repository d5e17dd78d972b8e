package apptest

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"sync"
	"testing"
)

// Client is a browser-like client: it keeps cookies and does not follow
// redirects, so tests see the 303s.
type Client struct {
	*http.Client
	// Header is added to every request the client makes.
	Header http.Header
	app    *App

	mu                sync.Mutex
	csrf, csrfSession string // the token CSRF read, and the session it is for
}

// Client returns a new client with an empty cookie jar.
func (a *App) Client(t testing.TB) *Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{Header: http.Header{}, app: a}
	c.Client = &http.Client{
		Jar:           jar,
		Transport:     headerTransport{c},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

// headerTransport adds the client's Header to each request.
type headerTransport struct{ c *Client }

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if len(h.c.Header) > 0 {
		r = r.Clone(r.Context())
		for k, vs := range h.c.Header {
			r.Header[k] = vs
		}
	}
	if h.c.app.tls {
		// The test server's transport trusts its certificate.
		return h.c.app.Server.Client().Transport.RoundTrip(r)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// Cookie returns the value of the client's cookie called name, or "".
func (c *Client) Cookie(name string) string {
	u, _ := url.Parse(c.app.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// SetCookie gives the client a cookie, as if the server had set it.
func (c *Client) SetCookie(name, value string) {
	u, _ := url.Parse(c.app.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// URL is the absolute address of path on the app.
func (c *Client) URL(path string) string { return c.app.URL + path }

// Get fetches path and returns the response with its body read.
func (c *Client) Get(t testing.TB, path string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Client.Get(c.app.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}

// CSRF returns a token for the client's forms, read from a page as a
// browser's form carries it: the sign-in form for a visitor, the feed once
// signed in. A token stays good while the session does, so one is kept
// until the session cookie changes.
func (c *Client) CSRF(t testing.TB) string {
	t.Helper()
	c.mu.Lock()
	session, token := c.csrfSession, c.csrf
	c.mu.Unlock()
	if token != "" && session == c.Cookie(sessionCookie) {
		return token
	}
	resp, body := c.Get(t, "/login")
	if resp.StatusCode == http.StatusSeeOther {
		_, body = c.Get(t, "/")
	}
	token = FormCSRF(body)
	if token == "" {
		t.Fatalf("no _csrf field on the sign-in form or the feed:\n%s", body)
	}
	c.mu.Lock()
	c.csrfSession, c.csrf = c.Cookie(sessionCookie), token
	c.mu.Unlock()
	return token
}

// sessionCookie is the name of Beacon's session cookie.
const sessionCookie = "beacon_session"

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

// FormCSRF is the value of the first _csrf field in page, or "".
func FormCSRF(page string) string {
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// PostForm posts form to path with the client's CSRF token added.
func (c *Client) PostForm(t testing.TB, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", c.CSRF(t))
	return c.PostFormRaw(t, path, form)
}

// PostFormRaw posts form exactly as given.
func (c *Client) PostFormRaw(t testing.TB, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.Client.PostForm(c.app.URL+path, form)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}

// Login signs the client in and fails the test unless it worked.
func (c *Client) Login(t testing.TB, email, password string) {
	t.Helper()
	resp, body := c.PostForm(t, "/login", url.Values{"email": {email}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: status %d, want 303\n%s", email, resp.StatusCode, body)
	}
}

// Signup creates an account through the sign-up form (which also signs
// the client in) and fails the test unless it worked.
func (c *Client) Signup(t testing.TB, name, email, password string) {
	t.Helper()
	resp, body := c.PostForm(t, "/signup", url.Values{"name": {name}, "email": {email}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("signup %s: status %d, want 303\n%s", email, resp.StatusCode, body)
	}
}

// Logout signs the client out and fails the test unless it worked.
func (c *Client) Logout(t testing.TB) {
	t.Helper()
	resp, body := c.PostForm(t, "/logout", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: status %d, want 303\n%s", resp.StatusCode, body)
	}
}

func readBody(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
