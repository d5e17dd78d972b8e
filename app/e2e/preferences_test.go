package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"beacon/app/apptest"
	"beacon/app/models"
)

// The page's desktop notifications follow what the person lets interrupt
// them (/settings): a muted level shows none; in quiet hours nothing
// shows, except an error when they allow it.
func TestDesktopNotificationsFollowThePersonsSettings(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	u := app.CreateUser(t, "Bea", userEmail, userPassword, false)
	user := newTab(t)
	watchConsole(t, user).noProblems(t, "the feed with settings")
	if _, err := chromedp.Call(user, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: fakeNotifications + `; window.Notification.permission = "granted";`}); err != nil {
		t.Fatal(err)
	}
	save := func(p models.Preferences) {
		t.Helper()
		if err := app.Store.SavePreferences(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	// Shows what arrives while hidden; returns the titles shown.
	arrive := func(what string, posts ...map[string]string) []string {
		t.Helper()
		open(t, user, app.URL+"/", 200)
		waitUntil(t, user, "the feed goes live", `document.getElementById("connection").dataset.state === "live"`, 5*time.Second)
		do(t, user, "hide the tab", chromedp.Evaluate[chromedp.Void](`window.__hidden = true; window.__shown = []`))
		for _, p := range posts {
			waitLive(t, user, app.Notify(t, token, p))
		}
		time.Sleep(400 * time.Millisecond) // the page gathers arrivals for 250 ms before it shows one
		var titles []string
		for _, s := range eval[[]map[string]string](t, user, `window.__shown`) {
			titles = append(titles, s["title"])
		}
		return titles
	}
	info := map[string]string{"title": "FYI", "level": "info"}
	failure := map[string]string{"title": "Down", "level": "error"}

	signIn(t, user, app, userEmail, userPassword)
	errorsOnly := models.DefaultPreferences(u.ID)
	errorsOnly.Levels = "warning,error"
	save(errorsOnly)
	if got := arrive("a muted level, then an error", info, failure); len(got) != 1 || got[0] != "Down" {
		t.Errorf("with info muted: %q, want the error alone", got)
	}
	// Quiet at every hour but one minute, an hour ago.
	now := time.Now().UTC()
	quiet := models.DefaultPreferences(u.ID)
	quiet.QuietStart, quiet.QuietEnd = now.Add(-time.Hour).Format("15:04"), now.Add(-time.Hour-time.Minute).Format("15:04")
	save(quiet)
	if got := arrive("quiet hours", info, failure); len(got) != 0 {
		t.Errorf("in quiet hours: %q, want none", got)
	}
	quiet.QuietAllowErrors = true
	save(quiet)
	if got := arrive("quiet hours, errors allowed", info, failure); len(got) != 1 || got[0] != "Down" {
		t.Errorf("in quiet hours with errors allowed: %q, want the error alone", got)
	}
	save(models.DefaultPreferences(u.ID))
	if got := arrive("the defaults", info); len(got) != 1 || got[0] != "FYI" {
		t.Errorf("with the defaults: %q, want the info", got)
	}
}
