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

// stateWithin is how soon a change made in one tab must show in another
// of the same person (the "within a second", with room for a
// loaded machine; each wait logs what it took).
const stateWithin = 2 * time.Second

// sameBrowserTab opens another tab in ctx's browser context: the same
// cookies, so the same signed-in person, as a second tab would be.
func sameBrowserTab(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	tab, closeTab := chromedp.NewContext(ctx)
	if err := chromedp.Do(tab); err != nil {
		closeTab()
		t.Fatalf("open a second tab: %v", err)
	}
	t.Cleanup(closeTab)
	return tab
}

// cardJS is how notification %d's card looks, as a JavaScript
// expression: "" when it is not on the page, else "read" or "unread" and
// which marking form it offers.
const cardJS = `(() => {
	const li = document.getElementById("notification-%d");
	if (!li) return "";
	const state = li.classList.contains("unread") ? "unread" : li.classList.contains("read") ? "read" : "?";
	const form = li.querySelector("form.mark-read") ? "mark-read" : li.querySelector("form.mark-unread") ? "mark-unread" : "no form";
	return state + " " + form;
})()`

// cardOf is how notification id's card looks now (cardJS).
func cardOf(t *testing.T, ctx context.Context, id int64) string {
	t.Helper()
	return eval[string](t, ctx, fmt.Sprintf(cardJS, id))
}

// waitFor waits until cond holds in the tab, within stateWithin, and
// logs how long it took.
func waitFor(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	start := time.Now()
	waitUntil(t, ctx, what, cond, stateWithin)
	t.Logf("%s: %v", what, time.Since(start).Round(time.Millisecond))
}

// cardIs is a JavaScript condition: notification id's card looks as want
// says (cardJS).
func cardIs(id int64, want string) string {
	return fmt.Sprintf(cardJS+" === %q", id, want)
}

// Two tabs of one person stay in step: reading, marking unread, archiving,
// unarchiving and "mark all" in one restyle, remove or bring back the card
// in the other without a reload, with the count, the tab title and, for a
// card that leaves or comes back, a word to screen readers; keyboard focus
// on a swapped form stays on the card.
func TestTwoTabsOfOnePersonStayInStep(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	app.CreateUser(t, "Bea", userEmail, userPassword, false)
	one := newTab(t)
	console := watchConsole(t, one)
	signIn(t, one, app, userEmail, userPassword)
	two := sameBrowserTab(t, one)
	open(t, two, app.URL+"/", http.StatusOK)
	for _, tab := range []context.Context{one, two} {
		waitUntil(t, tab, "the feed goes live", `document.getElementById("connection").dataset.state === "live"`, 5*time.Second)
	}
	ids := make([]int64, 3)
	for i := range ids {
		ids[i] = app.Notify(t, token, map[string]string{"title": fmt.Sprintf("note %d", i+1)})
	}
	for _, tab := range []context.Context{one, two} {
		waitLive(t, tab, ids[2])
		waitFor(t, tab, "three unread", `document.getElementById("unread-count").dataset.unread === "3"`)
	}

	// Read in one: the other restyles, and counts one fewer.
	do(t, one, "mark the first read", chromedp.Click(chromedp.CSS(fmt.Sprintf("#notification-%d form.mark-read button", ids[0]))))
	waitFor(t, two, "the read reaches the other tab", cardIs(ids[0], "read mark-unread")+
		` && document.getElementById("unread-count").dataset.unread === "2" && document.title.startsWith("(2) ")`)
	if got := cardOf(t, one, ids[0]); got != "read mark-unread" {
		t.Errorf("the first in the tab that read it: %q", got)
	}

	// Unread in the other, from the keyboard: its focus goes to the card's
	// new button, and the first tab follows.
	do(t, two, "focus Mark as unread", chromedp.Focus(chromedp.CSS(fmt.Sprintf("#notification-%d form.mark-unread button", ids[0]))))
	do(t, two, "press it", chromedp.KeyEvent("\r"))
	waitFor(t, one, "the unread reaches the first tab", cardIs(ids[0], "unread mark-read")+
		` && document.getElementById("unread-count").dataset.unread === "3"`)
	waitFor(t, two, "focus stays on the card", fmt.Sprintf(
		`document.activeElement.closest("form.mark-read") !== null && document.activeElement.closest("li").id === "notification-%d"`, ids[0]))

	// Archive in one (a plain form: that tab reloads); it leaves the other.
	if status := submit(t, one, fmt.Sprintf("#notification-%d form.archive button", ids[1])); status != http.StatusOK {
		t.Fatalf("archive: ended on %d", status)
	}
	waitFor(t, two, "the archived one leaves the other tab", cardIs(ids[1], "")+
		` && document.getElementById("announcer").textContent.includes("Archived")`)

	// Taken out of the archive in one: it comes back to the other's feed,
	// in its place, with its forms.
	open(t, one, app.URL+"/?view=archived", http.StatusOK)
	if status := submit(t, one, fmt.Sprintf("#notification-%d form.archive button", ids[1])); status != http.StatusOK {
		t.Fatalf("unarchive: ended on %d", status)
	}
	waitFor(t, two, "the unarchived one comes back to the other tab's feed", cardIs(ids[1], "unread mark-read")+
		fmt.Sprintf(` && Array.from(document.querySelectorAll("#notifications > li"), li => li.dataset.id).join(",") === "%d,%d,%d"`, ids[2], ids[1], ids[0])+
		fmt.Sprintf(` && document.querySelector("#notification-%d form.archive") !== null`, ids[1])+
		` && document.getElementById("announcer").textContent.includes("Back in the feed")`)

	// A tab on the archive sees one taken out of it leave.
	open(t, one, app.URL+"/", http.StatusOK)
	if status := submit(t, one, fmt.Sprintf("#notification-%d form.archive button", ids[1])); status != http.StatusOK {
		t.Fatalf("archive again: ended on %d", status)
	}
	open(t, two, app.URL+"/?view=archived", http.StatusOK)
	waitUntil(t, two, "the archive goes live", `document.getElementById("connection").dataset.state === "live"`, 5*time.Second)
	open(t, one, app.URL+"/?view=archived", http.StatusOK)
	if status := submit(t, one, fmt.Sprintf("#notification-%d form.archive button", ids[1])); status != http.StatusOK {
		t.Fatalf("unarchive: ended on %d", status)
	}
	waitFor(t, two, "the unarchived one leaves the other tab's archive", cardIs(ids[1], ""))

	// "Mark all as read" in one reaches every card of the other.
	open(t, two, app.URL+"/", http.StatusOK)
	waitUntil(t, two, "the feed goes live", `document.getElementById("connection").dataset.state === "live"`, 5*time.Second)
	open(t, one, app.URL+"/", http.StatusOK)
	do(t, one, "mark all read", chromedp.Click(chromedp.CSS("#mark-all button")))
	waitFor(t, two, "mark all reaches the other tab", cardIs(ids[0], "read mark-unread")+" && "+cardIs(ids[1], "read mark-unread")+
		" && "+cardIs(ids[2], "read mark-unread")+` && document.getElementById("unread-count").dataset.unread === "0"`)
	console.noProblems(t, "two tabs in step")
}

// A page that is left ends its stream: going back and forth between the
// feed's pages leaves one stream open, not one per page visited. Pages the
// browser kept held theirs, and over HTTP/1.1 six connections per site are
// all a browser's tabs share: the seventh page waited forever.
func TestLeavingAPageEndsItsStream(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app, _, _ := apptest.WithAdmin(t, apptest.Options{})
	app.CreateUser(t, "Bea", userEmail, userPassword, false)
	tab := newTab(t)
	signIn(t, tab, app, userEmail, userPassword)
	for i, path := range []string{"/", "/?view=archived", "/", "/?level=error", "/", "/?view=archived", "/", "/?view=archived", "/"} {
		open(t, tab, app.URL+path, http.StatusOK)
		waitUntil(t, tab, fmt.Sprintf("page %d (%s) goes live", i, path), `document.getElementById("connection").dataset.state === "live"`, 5*time.Second)
	}
	deadline := time.Now().Add(5 * time.Second)
	for app.Subscribers() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d streams open after visiting nine pages in one tab, want the last page's one", app.Subscribers())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
