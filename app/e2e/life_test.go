package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"beacon/app/apptest"
)

// apiChange edits (PATCH, with body) or withdraws (DELETE) notification id
// through the API, failing the test on any other answer than want.
func apiChange(t *testing.T, app *apptest.App, token, method string, id int64, body string, want int) {
	t.Helper()
	req, err := http.NewRequest(method, fmt.Sprintf("%s/api/notifications/%d", app.URL, id), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := app.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("%s notification %d: %d, want %d", method, id, resp.StatusCode, want)
	}
}

// cardState is one feed item as a person (and a screen reader) finds it.
type cardState struct {
	Shown    bool   `json:"shown"`
	Title    string `json:"title"`
	Body     string `json:"body"`
	Read     bool   `json:"read"`
	Unread   bool   `json:"unread"`
	MarkForm bool   `json:"markForm"` // it has its "Mark as read" form
}

func readCard(t *testing.T, ctx context.Context, id int64) cardState {
	t.Helper()
	return eval[cardState](t, ctx, fmt.Sprintf(`(() => {
		const li = document.getElementById("notification-%d");
		if (!li) return { shown: false };
		return { shown: true, title: li.querySelector(".title").textContent, body: li.querySelector(".body")?.textContent ?? "",
			read: li.classList.contains("read"), unread: li.classList.contains("unread"),
			markForm: li.querySelector("form.mark-read") !== null };
	})()`, id))
}

// A signed-in user's open feed follows edits and withdrawals without a
// reload: an edited card changes in place and stays read or unread as it
// was, a replacement by key changes its card rather than adding one, and
// a withdrawn card leaves, taking its unread mark from the badge.
func TestFeedAppliesEditsAndWithdrawalsInPlace(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	app.CreateUser(t, "Bea", userEmail, userPassword, false)
	readOne := app.Notify(t, token, map[string]string{"title": "Maintenance at noon"})
	unreadOne := app.Notify(t, token, map[string]string{"title": "Deploy started 0%", "key": "deploy"})
	third := app.Notify(t, token, map[string]string{"title": "Lunch is served"})
	user := newTab(t)
	console := watchConsole(t, user)

	signIn(t, user, app, userEmail, userPassword)
	do(t, user, "mark the page", chromedp.Evaluate[chromedp.Void](`window.__beaconSamePage = true`))
	waitUntil(t, user, "the feed goes live", `document.getElementById("connection").dataset.state === "live"`, 5*time.Second)
	do(t, user, "mark one read", chromedp.Click(chromedp.CSS(fmt.Sprintf("#notification-%d form.mark-read button", readOne))))
	// The count may come first, by the stream: the card is marked once the
	// request is answered.
	waitUntil(t, user, "two unread, the card read", fmt.Sprintf(`document.getElementById("unread-count").dataset.unread === "2" &&
		document.getElementById("notification-%d").classList.contains("read")`, readOne), 2*time.Second)

	apiChange(t, app, token, http.MethodPatch, readOne, `{"title":"Maintenance at one","body":"an hour later"}`, http.StatusOK)
	waitUntil(t, user, "the read card changes", fmt.Sprintf(`document.querySelector("#notification-%d .title")?.textContent === "Maintenance at one"`, readOne), liveWithin)
	if c := readCard(t, user, readOne); !c.Read || c.Unread || c.MarkForm || c.Body != "an hour later" {
		t.Fatalf("the edited read card: %+v, want it read, without its form, with the new body", c)
	}
	waitUntil(t, user, "the edit is announced", `document.getElementById("announcer").textContent !== ""`, time.Second)
	if h := readHeader(t, user); h.Unread != "2" || h.Title != "(2) Notifications · Beacon" || h.Announced != "Updated notification: Maintenance at one" {
		t.Fatalf("header after an edit: %+v, want the count kept and the edit said", h)
	}

	// The same key replaces the unread card: still one card, still unread.
	resp, body := app.PostAPI(t, token, map[string]string{"title": "Deploy finished 100%", "level": "success", "key": "deploy"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("replace by key: %d %s", resp.StatusCode, body)
	}
	waitUntil(t, user, "the unread card changes", fmt.Sprintf(`document.querySelector("#notification-%d .title")?.textContent === "Deploy finished 100%%"`, unreadOne), liveWithin)
	if c := readCard(t, user, unreadOne); !c.Unread || c.Read || !c.MarkForm {
		t.Fatalf("the replaced unread card: %+v, want it unread with its form", c)
	}
	if f := readFeed(t, user); len(f.IDs) != 3 || !f.SamePage {
		t.Fatalf("feed after the replacement: %+v, want the same three cards, no reload", f)
	}

	// Withdrawals: an unread one lowers the count, a read one does not.
	apiChange(t, app, token, http.MethodDelete, unreadOne, "", http.StatusNoContent)
	waitUntil(t, user, "the unread card leaves", fmt.Sprintf(`!document.getElementById("notification-%d")`, unreadOne), liveWithin)
	if h := readHeader(t, user); h.Unread != "1" || h.BadgeHidden || h.Title != "(1) Notifications · Beacon" {
		t.Fatalf("header after withdrawing an unread one: %+v", h)
	}
	apiChange(t, app, token, http.MethodDelete, readOne, "", http.StatusNoContent)
	waitUntil(t, user, "the read card leaves", fmt.Sprintf(`!document.getElementById("notification-%d")`, readOne), liveWithin)
	if h := readHeader(t, user); h.Unread != "1" {
		t.Fatalf("header after withdrawing a read one: %+v, want the count kept", h)
	}
	apiChange(t, app, token, http.MethodDelete, third, "", http.StatusNoContent)
	waitUntil(t, user, "the last card leaves", fmt.Sprintf(`!document.getElementById("notification-%d")`, third), liveWithin)
	f := readFeed(t, user)
	if h := readHeader(t, user); h.Unread != "0" || !h.BadgeHidden || h.Title != "Notifications · Beacon" || f.EmptyHidden || !f.SamePage {
		t.Fatalf("after the last withdrawal: header %+v, feed %+v; want no count and the empty hint", h, f)
	}
	console.noProblems(t, "the feed applying edits and withdrawals")
}

// An edit made through the admin's form reaches a visitor's open feed, and
// a withdrawal from the admin list takes the card away.
func TestAdminEditAndWithdrawReachAnOpenFeed(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	id := app.Notify(t, token, map[string]string{"title": "Coffee is ready"})
	visitor := newTab(t)
	admin := newTab(t)
	console := watchConsole(t, visitor)

	open(t, visitor, app.URL+"/", http.StatusOK)
	waitUntil(t, visitor, "the feed goes live", `document.getElementById("connection").dataset.state === "live"`, 5*time.Second)
	signIn(t, admin, app, adminEmail, adminPassword)
	open(t, admin, fmt.Sprintf("%s/admin/notifications/%d/edit", app.URL, id), http.StatusOK)
	do(t, admin, "edit the title",
		chromedp.SetValue(chromedp.ID("title"), "Coffee is gone"),
	)
	if status := submit(t, admin, fmt.Sprintf(`form[action="/admin/notifications/%d"] button[type=submit]`, id)); status != http.StatusOK {
		t.Fatalf("save the edit: ended on status %d", status)
	}
	waitUntil(t, visitor, "the card changes", fmt.Sprintf(`document.querySelector("#notification-%d .title")?.textContent === "Coffee is gone"`, id), liveWithin)

	if status := submit(t, admin, fmt.Sprintf(`form[action="/admin/notifications/%d/withdraw"] button[type=submit]`, id)); status != http.StatusOK {
		t.Fatalf("withdraw: ended on status %d", status)
	}
	waitUntil(t, visitor, "the card leaves", fmt.Sprintf(`!document.getElementById("notification-%d")`, id), liveWithin)
	if f := readFeed(t, visitor); f.EmptyHidden {
		t.Fatalf("feed after the withdrawal: %+v, want the empty hint", f)
	}
	console.noProblems(t, "a visitor's feed following the admin")
}

// adminRowState is one row of the admin list as a person reads it.
type adminRowState struct {
	State   string   `json:"state"`
	Actions []string `json:"actions"` // the row's links and buttons, as text
}

func readAdminRow(t *testing.T, ctx context.Context, id int64) adminRowState {
	t.Helper()
	return eval[adminRowState](t, ctx, fmt.Sprintf(`(() => {
		const tr = document.getElementById("admin-notification-%d");
		if (!tr) return { state: "", actions: [] };
		return { state: tr.querySelector(".state").innerText.trim(),
			actions: Array.from(tr.querySelectorAll(".row-actions a, .row-actions button"), e => e.textContent.replace(/\s+/g, " ").trim()) };
	})()`, id))
}

// The admin schedules a notification through the form (its time read as
// UTC), finds it "scheduled for" that time with Edit and Cancel, cancels
// it, and finds it "withdrawn" with nothing left to do.
func TestAdminListShowsScheduledAndWithdrawn(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app, _, _ := apptest.WithAdmin(t, apptest.Options{})
	tab := newTab(t)
	console := watchConsole(t, tab)

	signIn(t, tab, app, adminEmail, adminPassword)
	open(t, tab, app.URL+"/admin/notifications/new", http.StatusOK)
	due := time.Now().UTC().Add(26 * time.Hour).Truncate(time.Minute)
	do(t, tab, "fill in the form",
		chromedp.SendKeys(chromedp.ID("title"), "Release party"),
		chromedp.SendKeys(chromedp.ID("key"), "party:2"),
		chromedp.SetValue(chromedp.ID("deliver_at"), due.Format("2006-01-02T15:04")),
	)
	if status := submit(t, tab, `form[action="/admin/notifications"] button[type=submit]`); status != http.StatusOK {
		t.Fatalf("post the form: ended on status %d", status)
	}
	id := app.LastNotificationID(t)
	if id == 0 {
		t.Fatal("the form stored nothing")
	}
	row := readAdminRow(t, tab, id)
	if row.State != "scheduled for "+due.Format("2 Jan 2006 15:04 UTC") || fmt.Sprint(row.Actions) != `[Edit “Release party” Cancel “Release party”]` {
		t.Fatalf("the scheduled row: %+v", row)
	}
	screenshot(t, tab, "admin-scheduled")
	if status := submit(t, tab, fmt.Sprintf(`form[action="/admin/notifications/%d/withdraw"] button[type=submit]`, id)); status != http.StatusOK {
		t.Fatalf("cancel: ended on status %d", status)
	}
	if row := readAdminRow(t, tab, id); row.State != "withdrawn" || len(row.Actions) != 0 {
		t.Fatalf("the cancelled row: %+v, want withdrawn with no actions", row)
	}
	console.noProblems(t, "the admin list")
}
