package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"beacon/app/apptest"
)

const (
	userEmail    = "bea@example.com"
	userPassword = "another long password"
)

// waitUntil waits for a JavaScript condition to hold in the page, failing
// the test after within.
func waitUntil(t *testing.T, ctx context.Context, what, cond string, within time.Duration) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](cond,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(within)))
	if err != nil {
		t.Fatalf("%s: not within %v: %v", what, within, err)
	}
}

// fakeNotifications replaces the browser's Notification API before the
// page's scripts run: headless Chromium shows no desktop notifications,
// and a test must see what the page asked for. It counts permission
// requests, grants them, records each notification shown, and lets the
// test say whether the tab is hidden.
const fakeNotifications = `(() => {
  window.__asked = 0;
  window.__shown = [];
  window.__hidden = false;
  function FakeNotification(title, opts) { window.__shown.push({ title: title, body: (opts || {}).body }); }
  FakeNotification.permission = "default";
  FakeNotification.requestPermission = function (cb) {
    window.__asked++;
    FakeNotification.permission = "granted";
    if (cb) cb("granted");
    return Promise.resolve("granted");
  };
  window.Notification = FakeNotification;
  Object.defineProperty(document, "hidden", { get: () => window.__hidden });
})();`

// header is what the page's header and live regions show.
type header struct {
	Unread      string `json:"unread"`      // data-unread of the badge's count
	BadgeHidden bool   `json:"badgeHidden"` // the unread badge is hidden
	Title       string `json:"title"`       // the tab's title
	Announced   string `json:"announced"`   // the aria-live region's text
	Connection  string `json:"connection"`  // the indicator's state, "" when hidden
}

func readHeader(t *testing.T, ctx context.Context) header {
	t.Helper()
	return eval[header](t, ctx, `({
		unread: document.getElementById("unread-count")?.dataset.unread ?? "",
		badgeHidden: document.getElementById("unread-badge")?.hidden ?? true,
		title: document.title,
		announced: document.getElementById("announcer")?.textContent ?? "",
		connection: document.getElementById("connection").hidden ? "" : document.getElementById("connection").dataset.state,
	})`)
}

// A signed-in user's open feed shows what an admin posts from another
// browser, without a reload: the item, unread, with a relative time; the
// badge and the tab title count it; screen readers are told; and, once
// the user enabled them, a desktop notification shows while the tab is
// hidden. Then "Mark as read" and "Mark all as read" clear the count.
func TestSignedInFeedFollowsLiveAndMarksRead(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	app.CreateUser(t, "Bea", userEmail, userPassword, false)
	user := newTab(t)
	admin := newTab(t)
	console := watchConsole(t, user)
	if _, err := chromedp.Call(user, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: fakeNotifications}); err != nil {
		t.Fatal(err)
	}

	signIn(t, user, app, userEmail, userPassword)
	do(t, user, "mark the page", chromedp.Evaluate[chromedp.Void](`window.__beaconSamePage = true`))
	waitUntil(t, user, "the feed goes live", `document.getElementById("connection").dataset.state === "live"`, 5*time.Second)
	if h := readHeader(t, user); h.Unread != "0" || !h.BadgeHidden || h.Title != "Notifications · Beacon" {
		t.Fatalf("empty feed's header: %+v", h)
	}
	if asked := eval[int](t, user, `window.__asked`); asked != 0 {
		t.Fatalf("the page asked for notification permission %d times on load", asked)
	}
	do(t, user, "enable desktop notifications",
		chromedp.WaitVisible(chromedp.ID("desktop-notify")), chromedp.Click(chromedp.ID("desktop-notify")))
	waitUntil(t, user, "the button goes once permission is granted", `window.__asked === 1 && document.getElementById("desktop-notify").hidden`, time.Second)

	// The admin posts while the user's tab is in the background.
	do(t, user, "hide the tab", chromedp.Evaluate[chromedp.Void](`window.__hidden = true`))
	signIn(t, admin, app, adminEmail, adminPassword)
	open(t, admin, app.URL+"/admin/notifications/new", http.StatusOK)
	do(t, admin, "fill in the form",
		chromedp.SendKeys(chromedp.ID("title"), "Deploy finished"),
		chromedp.SendKeys(chromedp.ID("body"), "v1.2 is live"),
		chromedp.SetValue(chromedp.ID("level"), "success"),
	)
	if status := submit(t, admin, `form[action="/admin/notifications"] button[type=submit]`); status != http.StatusOK {
		t.Fatalf("post the form: ended on status %d", status)
	}
	first := app.LastNotificationID(t)
	if first == 0 {
		t.Fatal("the form stored nothing")
	}
	waitLive(t, user, first)
	item := fmt.Sprintf("#notification-%d", first)
	state := eval[struct {
		Unread   bool   `json:"unread"`
		Fresh    bool   `json:"fresh"`
		Ago      string `json:"ago"`
		Exact    string `json:"exact"`
		Level    string `json:"level"`
		SamePage bool   `json:"samePage"`
	}](t, user, `(() => {
		const li = document.querySelector("`+item+`");
		const time = li.querySelector("time");
		return { unread: li.classList.contains("unread"), fresh: li.classList.contains("fresh"),
			ago: time.textContent.trim(), exact: time.title, level: li.querySelector(".level").textContent.replace(/\s+/g, " ").trim(),
			samePage: window.__beaconSamePage === true };
	})()`)
	if !state.Unread || !state.Fresh || state.Ago != "just now" || state.Exact == "" || state.Level != "✓ Success" || !state.SamePage {
		t.Fatalf("the new item: %+v, want unread, highlighted, \"just now\" with the exact time on hover, its level in words, no reload", state)
	}
	waitUntil(t, user, "the announcement", `document.getElementById("announcer").textContent !== ""`, time.Second)
	if h := readHeader(t, user); h.Unread != "1" || h.BadgeHidden || h.Title != "(1) Notifications · Beacon" ||
		h.Announced != "New notification: Deploy finished" || h.Connection != "live" {
		t.Fatalf("header after one notification: %+v", h)
	}
	waitUntil(t, user, "the desktop notification", `window.__shown.length > 0`, time.Second)
	shown := eval[[]map[string]string](t, user, `window.__shown`)
	if len(shown) != 1 || shown[0]["title"] != "Deploy finished" || shown[0]["body"] != "v1.2 is live" {
		t.Fatalf("desktop notifications while hidden: %v, want the one posted", shown)
	}

	// Visible again: no desktop notification, but the feed still follows.
	do(t, user, "show the tab", chromedp.Evaluate[chromedp.Void](`window.__hidden = false`))
	second := app.Notify(t, token, map[string]string{"title": "Maintenance at noon", "level": "warning"})
	waitLive(t, user, second)
	if h := readHeader(t, user); h.Unread != "2" || h.Title != "(2) Notifications · Beacon" {
		t.Fatalf("header after two: %+v", h)
	}
	if n := eval[int](t, user, `window.__shown.length`); n != 1 {
		t.Fatalf("%d desktop notifications, want none for a visible tab", n)
	}

	// "Mark as read" on the first, by keyboard, then "Mark all as read".
	do(t, user, "mark the first read",
		chromedp.Focus(chromedp.CSS(item+" form.mark-read button")),
		chromedp.KeyEvent("\r"),
	)
	waitUntil(t, user, "one read", `document.getElementById("unread-count").dataset.unread === "1"`, 2*time.Second)
	if h := readHeader(t, user); h.Title != "(1) Notifications · Beacon" || h.BadgeHidden {
		t.Fatalf("header after marking one read: %+v", h)
	}
	do(t, user, "mark all read", chromedp.Click(chromedp.CSS(`#mark-all button`)))
	waitUntil(t, user, "all read", `document.getElementById("unread-count").dataset.unread === "0"`, 2*time.Second)
	h := readHeader(t, user)
	unreadItems := eval[int](t, user, `document.querySelectorAll("#notifications .unread, #notifications form.mark-read").length`)
	if !h.BadgeHidden || h.Title != "Notifications · Beacon" || unreadItems != 0 || !readFeed(t, user).SamePage {
		t.Fatalf("after mark all: header %+v, %d unread items or forms left", h, unreadItems)
	}
	screenshot(t, user, "feed-signed-in")
	console.noProblems(t, "the signed-in feed")
}
