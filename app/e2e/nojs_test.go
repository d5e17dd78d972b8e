package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"beacon/app/apptest"
)

// noScripts turns off the page's JavaScript in the tab, as a browser with
// scripts disabled (or one whose script failed to load) would have it.
// The test's own evaluations still run.
func noScripts(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled,
		emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatalf("disable scripts: %v", err)
	}
}

// plainFeed is what the feed shows without its script.
type plainFeed struct {
	Titles           []string `json:"titles"`
	Unread           string   `json:"unread"`
	BadgeHidden      bool     `json:"badgeHidden"`
	UnreadItems      int      `json:"unreadItems"`
	Times            []string `json:"times"`
	ConnectionHidden bool     `json:"connectionHidden"`
	NotifyHidden     bool     `json:"notifyHidden"`
	ScriptRan        bool     `json:"scriptRan"`
}

func readPlainFeed(t *testing.T, ctx context.Context) plainFeed {
	t.Helper()
	return eval[plainFeed](t, ctx, `({
		titles: Array.from(document.querySelectorAll("#notifications .title"), e => e.textContent),
		unread: document.getElementById("unread-count").dataset.unread,
		badgeHidden: document.getElementById("unread-badge").hidden,
		unreadItems: document.querySelectorAll("#notifications .unread").length,
		times: Array.from(document.querySelectorAll("#notifications time"), e => e.textContent.trim()),
		connectionHidden: document.getElementById("connection").hidden,
		notifyHidden: document.getElementById("desktop-notify").hidden,
		scriptRan: typeof window.Beacon !== "undefined",
	})`)
}

// Without JavaScript an admin still posts through the form, and a user
// still reads the feed (times in full) and marks notifications read, one
// and all, through plain forms. Nothing that needs the script is shown.
func TestWithoutJavaScript(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	app.CreateUser(t, "Bea", userEmail, userPassword, false)
	admin := newTab(t)
	user := newTab(t)
	noScripts(t, admin)
	noScripts(t, user)

	signIn(t, admin, app, adminEmail, adminPassword)
	open(t, admin, app.URL+"/admin/notifications/new", http.StatusOK)
	do(t, admin, "fill in the form",
		chromedp.SendKeys(chromedp.ID("title"), "Posted without JavaScript"),
		chromedp.SetValue(chromedp.ID("level"), "warning"),
	)
	if status := submit(t, admin, `form[action="/admin/notifications"] button[type=submit]`); status != http.StatusOK {
		t.Fatalf("post the form: ended on status %d", status)
	}
	if listed := eval[string](t, admin, `document.querySelector(".admin-list tbody tr td:nth-child(2)")?.textContent.trim() ?? ""`); listed != "Posted without JavaScript" {
		t.Fatalf("the admin list's first row is %q", listed)
	}
	second := app.Notify(t, token, map[string]string{"title": "From the API"})

	signIn(t, user, app, userEmail, userPassword)
	f := readPlainFeed(t, user)
	if f.ScriptRan || len(f.Titles) != 2 || f.Titles[0] != "From the API" || f.Unread != "2" || f.BadgeHidden || f.UnreadItems != 2 ||
		!f.ConnectionHidden || !f.NotifyHidden || len(f.Times) != 2 || f.Times[0] == "just now" || f.Times[0] == "" {
		t.Fatalf("feed without JavaScript: %+v", f)
	}

	button := fmt.Sprintf(`#notification-%d form.mark-read button`, second)
	if status := submit(t, user, button); status != http.StatusOK {
		t.Fatalf("mark one read: ended on status %d", status)
	}
	if f := readPlainFeed(t, user); f.Unread != "1" || f.UnreadItems != 1 {
		t.Fatalf("after marking one read: %+v", f)
	}
	if status := submit(t, user, `#mark-all button`); status != http.StatusOK {
		t.Fatalf("mark all read: ended on status %d", status)
	}
	if f := readPlainFeed(t, user); f.Unread != "0" || !f.BadgeHidden || f.UnreadItems != 0 || len(f.Titles) != 2 {
		t.Fatalf("after marking all read: %+v", f)
	}
}
