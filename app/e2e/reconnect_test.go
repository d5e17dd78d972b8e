package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"beacon/app/apptest"
	"beacon/app/models"
)

// recordConnection makes the page keep every state the connection
// indicator shows, in order, in window.__states: a state shown only for a
// moment is still seen.
const recordConnection = `(() => {
  const el = document.getElementById("connection");
  window.__states = [el.dataset.state];
  new MutationObserver(() => {
    if (window.__states[window.__states.length - 1] !== el.dataset.state) window.__states.push(el.dataset.state);
  }).observe(el, { attributes: true, attributeFilter: ["data-state"] });
})()`

// The server restarts under an open feed: the indicator goes to
// "reconnecting" and back to "live", and the notifications stored while it
// was down appear once each, in order, without a reload.
func TestFeedReconnectsAfterServerRestart(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	// A short retry keeps the test quick; the browser's behaviour is the same.
	app := apptest.New(t, apptest.Options{Retry: 200 * time.Millisecond})
	admin := app.CreateUser(t, "Ada", adminEmail, adminPassword, true)
	token := app.Token(t, admin)
	app.CreateUser(t, "Bea", userEmail, userPassword, false)
	before := app.Notify(t, token, map[string]string{"title": "Before the restart"})
	tab := newTab(t)

	signIn(t, tab, app, userEmail, userPassword)
	do(t, tab, "mark the page", chromedp.Evaluate[chromedp.Void](`window.__beaconSamePage = true`))
	waitUntil(t, tab, "the feed goes live", `document.getElementById("connection").dataset.state === "live"`, 5*time.Second)
	do(t, tab, "record the indicator", chromedp.Evaluate[chromedp.Void](recordConnection))

	app.Down(t)
	waitUntil(t, tab, "the indicator shows the loss", `document.getElementById("connection").dataset.state === "reconnecting"`, 5*time.Second)
	// Another instance goes on storing notifications meanwhile.
	var missed []int64
	for _, title := range []string{"Posted while down 1", "Posted while down 2"} {
		n := models.Notification{Title: title, Level: "info"}
		if _, err := app.Store.CreateOrReplaceNotification(context.Background(), &n); err != nil {
			t.Fatal(err)
		}
		missed = append(missed, n.ID)
	}
	app.Up(t)
	for _, id := range missed {
		waitLive(t, tab, id)
	}
	waitUntil(t, tab, "the indicator is live again", `document.getElementById("connection").dataset.state === "live"`, 5*time.Second)
	after := app.Notify(t, token, map[string]string{"title": "After the restart"})
	waitLive(t, tab, after)

	f := readFeed(t, tab)
	want := []string{fmt.Sprint(after), fmt.Sprint(missed[1]), fmt.Sprint(missed[0]), fmt.Sprint(before)}
	if !slices.Equal(f.IDs, want) || !f.SamePage {
		t.Fatalf("feed after the restart: %v (same page: %v), want %v once each, no reload", f.IDs, f.SamePage, want)
	}
	states := eval[[]string](t, tab, `window.__states`)
	if i := slices.Index(states, "reconnecting"); i < 0 || states[len(states)-1] != "live" || !slices.Contains(states[i:], "live") {
		t.Fatalf("indicator states %v, want live, reconnecting, …, live", states)
	}
	if h := readHeader(t, tab); h.Unread != "4" || h.Title != "(4) Notifications · Beacon" {
		t.Fatalf("header after the restart: %+v, want 4 unread", h)
	}
}

// Two people in two browsers talk in a room; each sees the other's
// message live and who is online. Then the server restarts, and the
// chat's indicator goes to "reconnecting" and back to "live".
func TestChatBetweenTwoBrowsers(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.CreateUser(t, "Ann", "ann@example.com", userPassword, false)
	app.CreateUser(t, "Bea", userEmail, userPassword, false)
	ann := newTab(t)
	bea := newTab(t)
	annConsole := watchConsole(t, ann)
	beaConsole := watchConsole(t, bea)
	do(t, ann, "light", colorScheme("light"), chromedp.EmulateViewport(1024, 768))
	do(t, bea, "dark", colorScheme("dark"), chromedp.EmulateViewport(1024, 768))

	for _, p := range []struct {
		tab   context.Context
		email string
	}{{ann, "ann@example.com"}, {bea, userEmail}} {
		signIn(t, p.tab, app, p.email, userPassword)
		open(t, p.tab, app.URL+"/chat", http.StatusOK)
		waitUntil(t, p.tab, "the chat goes live", `document.getElementById("connection").dataset.state === "live"`, 5*time.Second)
	}
	for _, tab := range []context.Context{ann, bea} {
		waitUntil(t, tab, "both online", `Array.from(document.querySelectorAll("#chat-online li"), li => li.textContent).sort().join() === "Ann,Bea"`, 2*time.Second)
	}

	say := func(from, to context.Context, text string) {
		t.Helper()
		do(t, from, "say "+text, chromedp.SendKeys(chromedp.ID("chat-body"), text+"\r"))
		cond := fmt.Sprintf(`Array.from(document.querySelectorAll("#chat-messages .chat-body"), p => p.textContent).includes(%q)`, text)
		waitUntil(t, to, "the other sees "+text, cond, liveWithin)
		waitUntil(t, from, "the sender sees "+text, cond, liveWithin)
	}
	say(ann, bea, "Hello Bea, are you there?")
	say(bea, ann, "Hi Ann! Yes <b>here</b>.")
	for _, tab := range []context.Context{ann, bea} {
		if n := eval[int](t, tab, `document.querySelectorAll("#chat-messages li").length`); n != 2 {
			t.Fatalf("%d messages shown, want 2", n)
		}
		if n := eval[int](t, tab, `document.querySelectorAll("#chat-messages b").length`); n != 0 {
			t.Fatal("markup in a message was parsed")
		}
	}
	screenshot(t, ann, "chat-light")
	screenshot(t, bea, "chat-dark")
	for scheme, tab := range map[string]context.Context{"light": ann, "dark": bea} {
		if low := lowContrast(t, tab); len(low) > 0 {
			t.Errorf("chat, %s: low contrast: %q", scheme, low)
		}
	}
	annConsole.noProblems(t, "/chat for Ann")
	beaConsole.noProblems(t, "/chat for Bea")

	do(t, ann, "record the indicator", chromedp.Evaluate[chromedp.Void](recordConnection))
	app.Down(t)
	waitUntil(t, ann, "the chat shows the loss", `document.getElementById("connection").dataset.state === "reconnecting"`, 5*time.Second)
	app.Up(t)
	for _, tab := range []context.Context{ann, bea} {
		waitUntil(t, tab, "the chat is live again", `document.getElementById("connection").dataset.state === "live"`, 5*time.Second)
	}
	say(bea, ann, "Back after the restart")
	if n := eval[int](t, ann, `document.querySelectorAll("#chat-messages li").length`); n != 3 {
		t.Fatalf("%d messages after the restart, want 3, each once", n)
	}
}

// Signed out in another tab, the chat says so at its next message and
// stops reconnecting: it would only be refused.
func TestChatStopsWhenSignedOut(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	app.CreateUser(t, "Bea", userEmail, userPassword, false)
	tab := newTab(t)
	signIn(t, tab, app, userEmail, userPassword)
	open(t, tab, app.URL+"/chat", http.StatusOK)
	waitUntil(t, tab, "the chat goes live", `document.getElementById("connection").dataset.state === "live"`, 5*time.Second)

	// Sign out as another tab of the same browser would: same cookies.
	do(t, tab, "sign out elsewhere", chromedp.Evaluate[chromedp.Void](`(() => {
		const body = new URLSearchParams({ _csrf: document.querySelector("input[name=_csrf]").value });
		fetch("/logout", { method: "POST", body: body, credentials: "same-origin", redirect: "manual" })
			.then(() => { window.__signedOut = true; });
	})()`))
	waitUntil(t, tab, "the sign-out answered", `window.__signedOut === true`, 5*time.Second)
	do(t, tab, "say something", chromedp.SendKeys(chromedp.ID("chat-body"), "still there?\r"))
	waitUntil(t, tab, "the chat says so", `document.getElementById("chat-error").textContent.includes("signed out")`, 5*time.Second)
	if state := eval[string](t, tab, `document.getElementById("connection").dataset.state`); state != "offline" {
		t.Fatalf("indicator %q, want offline", state)
	}
}

// A server that stays away turns the indicator from "reconnecting" to
// "offline"; when it is back, the feed is live again.
func TestFeedGoesOfflineThenLiveAgain(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app := apptest.New(t, apptest.Options{Retry: 100 * time.Millisecond})
	tab := newTab(t)
	open(t, tab, app.URL+"/", http.StatusOK)
	waitUntil(t, tab, "the feed goes live", `document.getElementById("connection").dataset.state === "live"`, 5*time.Second)
	do(t, tab, "record the indicator", chromedp.Evaluate[chromedp.Void](recordConnection))

	app.Down(t)
	waitUntil(t, tab, "the indicator says offline", `document.getElementById("connection").dataset.state === "offline"`, 15*time.Second)
	app.Up(t)
	waitUntil(t, tab, "the feed is live again", `document.getElementById("connection").dataset.state === "live"`, 15*time.Second)
	states := eval[[]string](t, tab, `window.__states`)
	if want := []string{"live", "reconnecting", "offline", "live"}; !slices.Equal(states, want) {
		t.Fatalf("indicator states %v, want %v", states, want)
	}
}
