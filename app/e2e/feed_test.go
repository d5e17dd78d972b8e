package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"beacon/app/apptest"
)

// liveWithin is how soon a posted notification must show in an open feed.
const liveWithin = 2 * time.Second

// waitLive waits for notification id to appear in the open feed, failing
// the test if it takes longer than liveWithin.
func waitLive(t *testing.T, ctx context.Context, id int64) {
	t.Helper()
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, liveWithin)
	defer cancel()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.ID(fmt.Sprintf("notification-%d", id)))); err != nil {
		t.Fatalf("notification %d not in the open feed within %v: %v", id, liveWithin, err)
	}
	t.Logf("notification %d shown %v after it was posted", id, time.Since(start).Round(time.Millisecond))
}

// feedState is what the open feed shows, read in one evaluation.
type feedState struct {
	IDs         []string `json:"ids"`         // data-id of each item, top first
	FirstTitle  string   `json:"firstTitle"`  // the top item's title as text
	EmptyHidden bool     `json:"emptyHidden"` // "No notifications yet." is hidden
	Markup      int      `json:"markup"`      // img or script elements inside the list
	Pwned       bool     `json:"pwned"`       // a hostile title's handler ran
	SamePage    bool     `json:"samePage"`    // the marker set before posting survived: no reload
}

func readFeed(t *testing.T, ctx context.Context) feedState {
	t.Helper()
	return eval[feedState](t, ctx, `({
		ids: Array.from(document.querySelectorAll("#notifications > li"), li => li.dataset.id),
		firstTitle: document.querySelector("#notifications > li .title")?.textContent ?? "",
		emptyHidden: document.getElementById("feed-empty").hidden,
		markup: document.querySelectorAll("#notifications img, #notifications script").length,
		pwned: typeof window.__pwned !== "undefined",
		samePage: window.__beaconSamePage === true,
	})`)
}

func TestFeedShowsPostedNotificationsLive(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	visitor := newTab(t)
	admin := newTab(t)
	console := watchConsole(t, visitor)

	open(t, visitor, app.URL+"/", http.StatusOK)
	do(t, visitor, "mark the page", chromedp.Evaluate[chromedp.Void](`window.__beaconSamePage = true`))
	if f := readFeed(t, visitor); len(f.IDs) != 0 || f.EmptyHidden {
		t.Fatalf("fresh feed: %+v, want empty with its hint shown", f)
	}

	// From another system, through the API.
	id := app.Notify(t, token, map[string]string{"title": "Deploy finished", "level": "success"})
	waitLive(t, visitor, id)
	f := readFeed(t, visitor)
	if want := fmt.Sprint(id); len(f.IDs) != 1 || f.IDs[0] != want || f.FirstTitle != "Deploy finished" || !f.EmptyHidden || !f.SamePage {
		t.Fatalf("after the API post: %+v, want only %s titled \"Deploy finished\", the hint hidden, no reload", f, want)
	}

	// From an admin in another browser, through the form.
	signIn(t, admin, app, adminEmail, adminPassword)
	open(t, admin, app.URL+"/admin/notifications/new", http.StatusOK)
	do(t, admin, "fill in the form",
		chromedp.SendKeys(chromedp.CSS(`input[name=title]`), "Maintenance at noon"),
		chromedp.SetValue(chromedp.CSS(`select[name=level]`), "warning"),
	)
	if status := submit(t, admin, `form[action="/admin/notifications"] button[type=submit]`); status != http.StatusOK {
		t.Fatalf("post the form: ended on status %d", status)
	}
	formID := app.LastNotificationID(t)
	if formID <= id {
		t.Fatalf("the form stored nothing new: last id %d", formID)
	}
	waitLive(t, visitor, formID)
	f = readFeed(t, visitor)
	if len(f.IDs) != 2 || f.IDs[0] != fmt.Sprint(formID) || f.IDs[1] != fmt.Sprint(id) ||
		f.FirstTitle != "Maintenance at noon" || !f.SamePage {
		t.Fatalf("after the form post: %+v, want %d on top of %d, no reload", f, formID, id)
	}
	console.noProblems(t, "/")
}

// hostile is a title that runs script if it is ever parsed as HTML.
const hostile = `<img src=x onerror="window.__pwned=1">`

func TestFeedShowsHostileTitleAsText(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	tab := newTab(t)
	console := watchConsole(t, tab)
	body := `<script>window.__pwned=2</script>`

	rendered := app.Notify(t, token, map[string]string{"title": hostile, "body": body})
	open(t, tab, app.URL+"/", http.StatusOK)
	do(t, tab, "mark the page", chromedp.Evaluate[chromedp.Void](`window.__beaconSamePage = true`))
	checkHostile(t, tab, rendered, body, "rendered with the page")

	live := app.Notify(t, token, map[string]string{"title": hostile, "body": body, "level": "error"})
	waitLive(t, tab, live)
	checkHostile(t, tab, live, body, "arrived live")
	if !readFeed(t, tab).SamePage {
		t.Fatal("the page reloaded")
	}
	// A blocked handler would show here as a CSP violation.
	console.noProblems(t, "/")
}

func checkHostile(t *testing.T, ctx context.Context, id int64, body, when string) {
	t.Helper()
	sel := fmt.Sprintf("#notification-%d", id)
	do(t, ctx, "wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel+" .title")))
	title, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel+" .title")))
	if err != nil {
		t.Fatal(err)
	}
	gotBody, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel+" .body")))
	if err != nil {
		t.Fatal(err)
	}
	f := readFeed(t, ctx)
	if title != hostile || gotBody != body || f.Markup != 0 || f.Pwned {
		t.Fatalf("hostile notification %s: title %q, body %q, %d img/script elements in the list, handler ran: %v",
			when, title, gotBody, f.Markup, f.Pwned)
	}
}
