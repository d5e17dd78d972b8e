package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"beacon/app/apptest"
)

// Every page loads its scripts and styles under the CSP and writes no
// error to the console, for a visitor and for an admin. (The signed-in
// user's feed and the chat with its WebSocket are checked the same way
// in their own tests.)
func TestPagesHaveNoConsoleErrorsOrCSPViolations(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	app.Notify(t, token, map[string]string{"title": "Deploy finished", "body": "v1.2 is live", "level": "success"})
	visitor := newTab(t)
	admin := newTab(t)
	visitorConsole := watchConsole(t, visitor)
	adminConsole := watchConsole(t, admin)

	for _, p := range []struct {
		path   string
		status int64
		shows  string // an element only that page has, so it really loaded
	}{
		{"/", http.StatusOK, "#notifications > li"},
		{"/login", http.StatusOK, `form[action="/login"]`},
		{"/signup", http.StatusOK, `form[action="/signup"]`},
		{"/chat", http.StatusOK, ".chat-signin"},
		{"/no-such-page", http.StatusNotFound, ".error-page"},
	} {
		open(t, visitor, app.URL+p.path, p.status)
		do(t, visitor, "wait for "+p.shows, chromedp.WaitVisible(chromedp.CSS(p.shows)))
		visitorConsole.noProblemsBut(t, p.path+" as a visitor", app.URL+p.path, p.status)
	}

	signIn(t, admin, app, adminEmail, adminPassword)
	adminConsole.noProblems(t, "sign-in and /admin/notifications")
	for _, p := range []struct{ path, ready string }{
		{"/", `document.getElementById("connection").dataset.state === "live"`},
		{"/admin/notifications", `document.querySelector("main h1") !== null`},
		{"/admin/notifications/new", `document.querySelector("main h1") !== null`},
		{"/admin/groups", `document.querySelector("main h1") !== null`},
		{"/topics", `document.querySelector("main h1") !== null`},
		{"/chat/ops", `document.getElementById("connection").dataset.state === "live"`},
	} {
		open(t, admin, app.URL+p.path, http.StatusOK)
		waitUntil(t, admin, p.path+" ready", p.ready, 5*time.Second)
		adminConsole.noProblems(t, p.path+" as an admin")
	}
}

// The watch that the test above relies on sees a CSP violation: without
// this, a watch that saw nothing would pass every page.
func TestConsoleWatchSeesCSPViolations(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	tab := newTab(t)
	console := watchConsole(t, tab)
	open(t, tab, app.URL+"/login", http.StatusOK)

	// An inline script, as an injection would add, must be refused.
	ran := eval[bool](t, tab, `(() => {
		const s = document.createElement("script");
		s.textContent = "window.__inlineRan = true";
		document.body.appendChild(s);
		return window.__inlineRan === true;
	})()`)
	if ran {
		t.Fatal("an inline script ran: the CSP does not forbid inline scripts")
	}
	problems := console.problems(t)
	found := false
	for _, p := range problems {
		if strings.Contains(p, "CSP violation: script-src") {
			found = true
		}
	}
	if !found {
		t.Fatalf("the refused inline script did not show as a CSP violation; console problems: %q", problems)
	}
}

// A keyboard user can skip the header, and sees where the focus is.
func TestKeyboardSkipLinkAndVisibleFocus(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	app.Notify(t, token, map[string]string{"title": "Deploy finished"})
	tab := newTab(t)
	open(t, tab, app.URL+"/", http.StatusOK)

	type focus struct {
		Text    string  `json:"text"`
		Top     float64 `json:"top"`
		Outline string  `json:"outline"`
	}
	focused := func() focus {
		return eval[focus](t, tab, `(() => {
			const e = document.activeElement;
			return { text: (e.innerText || e.id).trim(), top: e.getBoundingClientRect().top, outline: getComputedStyle(e).outlineStyle };
		})()`)
	}
	do(t, tab, "press Tab", chromedp.KeyEvent("\t"))
	if f := focused(); f.Text != "Skip to content" || f.Top < 0 || f.Outline == "none" {
		t.Fatalf("first Tab focuses %+v, want the skip link, on screen, outlined", f)
	}
	do(t, tab, "follow the skip link", chromedp.KeyEvent("\r"), chromedp.KeyEvent("\t"))
	if f := focused(); f.Text != "Enable desktop notifications" || f.Outline == "none" {
		t.Fatalf("Tab after skipping focuses %+v, want the first control in main, outlined", f)
	}
}
