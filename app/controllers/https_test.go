package controllers_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"beacon/app/apptest"
)

// secureSignIn signs in as Ada through requests that say
// X-Forwarded-Proto: proto, carrying the cookies by hand (a cookie jar
// would not send Secure cookies over the test's plain http), and returns
// every cookie set and the headers of the last answer.
func secureSignIn(t *testing.T, app *apptest.App, proto string) ([]*http.Cookie, http.Header) {
	t.Helper()
	var set []*http.Cookie
	do := func(req *http.Request) (*http.Response, string) {
		req.Header.Set("X-Forwarded-Proto", proto)
		for _, ck := range set {
			req.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		set = append(set, resp.Cookies()...)
		return resp, string(b)
	}
	req, _ := http.NewRequest(http.MethodGet, app.URL+"/login", nil)
	resp, page := do(req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /login: %d", resp.StatusCode)
	}
	form := url.Values{"_csrf": {apptest.FormCSRF(page)}, "email": {apptest.AdminEmail}, "password": {apptest.AdminPassword}}
	req, _ = http.NewRequest(http.MethodPost, app.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body := do(req)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("POST /login: %d\n%s", resp.StatusCode, body)
	}
	return set, resp.Header
}

// Behind a trusted proxy that says https, every cookie is Secure and
// Strict-Transport-Security is sent; the same header from anyone else is
// not believed.
func TestHTTPSBehindTrustedProxy(t *testing.T) {
	t.Parallel()
	trusted, _, _ := apptest.WithAdmin(t, apptest.Options{Env: map[string]string{"TRUST_PROXY": "true"}})
	cookies, h := secureSignIn(t, trusted, "https")
	if got := h.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=") {
		t.Errorf("Strict-Transport-Security %q under https", got)
	}
	if len(cookies) == 0 {
		t.Fatal("no cookies set")
	}
	for _, ck := range cookies {
		if !ck.Secure || !ck.HttpOnly {
			t.Errorf("cookie %s under https: Secure %v HttpOnly %v", ck.Name, ck.Secure, ck.HttpOnly)
		}
	}
	if _, h := secureSignIn(t, trusted, "http"); h.Get("Strict-Transport-Security") != "" {
		t.Error("Strict-Transport-Security over plain http")
	}

	direct, _, _ := apptest.WithAdmin(t, apptest.Options{})
	cookies, h = secureSignIn(t, direct, "https")
	if got := h.Get("Strict-Transport-Security"); got != "" {
		t.Errorf("without TRUST_PROXY, a client's X-Forwarded-Proto got Strict-Transport-Security %q", got)
	}
	for _, ck := range cookies {
		if ck.Secure {
			t.Errorf("without TRUST_PROXY, cookie %s is Secure on a client's say-so", ck.Name)
		}
	}
}
