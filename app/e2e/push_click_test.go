package e2e

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"beacon/app/apptest"
)

// clickStubs stand in, inside the worker, for what needs a person's click:
// a synthetic notificationclick carries no user activation, and without
// one the browser refuses clients.openWindow and WindowClient.focus. They
// record what the worker asked for; WindowClient.navigate stays real.
const clickStubs = `(() => {
  self.__clicks = [];
  self.clients.openWindow = url => { self.__clicks.push("open " + url); return Promise.resolve(null); };
  WindowClient.prototype.focus = function () { self.__clicks.push("focus " + new URL(this.url).pathname); return Promise.resolve(this); };
})()`

// click dispatches notificationclick for a notification whose data is
// data, waits for what the worker does about it, and returns it: the
// stubs' records, and "close" when it closed the notification.
func (w *worker) click(t *testing.T, data string) []string {
	t.Helper()
	calls, err := chromedp.Run(w.ctx, chromedp.Evaluate[[]string](`new Promise(done => {
  const n = { data: `+data+`, close() { self.__clicks.push("close"); } };
  const e = new Event("notificationclick");
  let handled = Promise.resolve();
  e.notification = n;
  e.waitUntil = p => { handled = p; };
  self.dispatchEvent(e);
  handled.then(() => done(self.__clicks.splice(0)), err => done(self.__clicks.splice(0).concat("failed: " + err)));
})`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("click %s: %v", data, err)
	}
	return calls
}

// A click on a pushed notification opens it through the route that marks
// it read: in a new window when it has a url or no feed is open, else in
// the open feed, brought forward (which then shows it read).
func TestServiceWorkerClickOpensTheNotification(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	bea := app.CreateUser(t, "Bea", userEmail, userPassword, false)
	linked := app.Notify(t, token, map[string]string{"title": "incident", "url": "/chat"})
	plain := app.Notify(t, token, map[string]string{"title": "no link"})
	tab := newTab(t)
	console := watchConsole(t, tab)
	allowNotifications(t, tab, app.URL)
	signIn(t, tab, app, userEmail, userPassword)
	w := registerWorker(t, tab, app.URL)
	do(t, w.ctx, "stub what needs a click", chromedp.Evaluate[chromedp.Void](clickStubs))
	data := func(id int64, url string) string { return fmt.Sprintf(`{"id":%d,"url":%s}`, id, url) }

	// The feed is open: one with a url opens in a new window; one without
	// is opened in the feed.
	if got, want := w.click(t, data(linked, `"/chat"`)), []string{"close", fmt.Sprintf("open /notifications/%d/open", linked)}; !slices.Equal(got, want) {
		t.Errorf("click with a url: %q, want %q", got, want)
	}
	if got, want := w.click(t, data(plain, "null")), []string{"close", "focus /"}; !slices.Equal(got, want) {
		t.Errorf("click without a url, the feed open: %q, want %q", got, want)
	}
	waitUntil(t, tab, "the feed shows it read", fmt.Sprintf(`location.pathname === "/" && !!document.querySelector("#notification-%d.read")`, plain), 5*time.Second)
	read, err := app.Store.ReadNotificationIDs(t.Context(), bea.ID, []int64{linked, plain})
	if err != nil || !read[plain] || read[linked] {
		t.Errorf("read after the clicks: %v %v, want %d alone (the other's window was not opened)", read, err, plain)
	}

	// Another page is not navigated away from, and no window is no feed.
	for _, where := range []string{app.URL + "/settings", "about:blank"} {
		do(t, tab, "go to "+where, chromedp.Navigate(where))
		if got, want := w.click(t, data(plain, "null")), []string{"close", fmt.Sprintf("open /notifications/%d/open", plain)}; !slices.Equal(got, want) {
			t.Errorf("click without a url at %s: %q, want %q", where, got, want)
		}
	}
	if got, want := w.click(t, `{}`), []string{"close", "open /"}; !slices.Equal(got, want) {
		t.Errorf("click on one without an id: %q, want %q", got, want)
	}
	w.noErrors(t)
	console.noProblems(t, "the pages")
}

// pageShows records, on the page, each notification it shows through the
// service worker's registration (and still shows it), and lets the test
// say whether the tab is hidden.
const pageShows = `(() => {
  window.__hidden = false;
  window.__viaWorker = [];
  Object.defineProperty(document, "hidden", { get: () => window.__hidden });
  const show = ServiceWorkerRegistration.prototype.showNotification;
  ServiceWorkerRegistration.prototype.showNotification = function (title, options) {
    return show.call(this, title, options).then(() => { window.__viaWorker.push({ title, tag: options.tag, data: options.data }); });
  };
})();`

// Once the worker is in charge of the feed, the feed's own desktop
// notification is shown as the worker's, under the same tag, with what
// its click needs: a push for it later replaces it instead of showing it
// a second time.
func TestTheFeedShowsItsDesktopNotificationsAsTheWorkers(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	app.CreateUser(t, "Bea", userEmail, userPassword, false)
	tab := newTab(t)
	console := watchConsole(t, tab)
	onEveryPage(t, tab, pageShows)
	allowNotifications(t, tab, app.URL)
	signIn(t, tab, app, userEmail, userPassword)
	registerWorker(t, tab, app.URL)
	waitUntil(t, tab, "the worker takes the page over", `!!navigator.serviceWorker.controller`, 5*time.Second)
	waitUntil(t, tab, "the feed goes live", `document.getElementById("connection").dataset.state === "live"`, 5*time.Second)

	do(t, tab, "hide the tab", chromedp.Evaluate[chromedp.Void](`window.__hidden = true`))
	id := app.Notify(t, token, map[string]string{"title": "Deploy finished", "url": "/chat"})
	waitUntil(t, tab, "the desktop notification", `window.__viaWorker.length > 0`, 3*time.Second)
	type shown struct {
		Title string `json:"title"`
		Tag   string `json:"tag"`
		Data  struct {
			ID  int64  `json:"id"`
			URL string `json:"url"`
		} `json:"data"`
	}
	got := eval[[]shown](t, tab, `window.__viaWorker`)
	if len(got) != 1 || got[0].Title != "Deploy finished" || got[0].Tag != fmt.Sprintf("beacon-%d", id) || got[0].Data.ID != id || got[0].Data.URL != "/chat" {
		t.Fatalf("shown through the worker: %+v, want the one posted, tagged beacon-%d, with its id and url", got, id)
	}
	console.noProblems(t, "the feed")
}

// clickableNotifications is fakeNotifications (granted already) keeping
// each notification, so that the test can click it, and window.open and
// window.focus recording their calls.
const clickableNotifications = `(() => {
  window.__notes = [];
  window.__opened = [];
  window.__focused = 0;
  window.__hidden = true;
  function FakeNotification(title, opts) {
    this.title = title;
    this.tag = (opts || {}).tag;
    this.close = () => { this.closed = true; };
    window.__notes.push(this);
  }
  FakeNotification.permission = "granted";
  FakeNotification.requestPermission = () => Promise.resolve("granted");
  window.Notification = FakeNotification;
  window.open = (url, name, features) => { window.__opened.push([url, name, features].join(" ")); return null; };
  window.focus = () => { window.__focused++; };
  Object.defineProperty(document, "hidden", { get: () => window.__hidden });
})();`

// A click on the feed's own desktop notification does what the worker's
// does: it opens the notification's url, or brings the feed forward, and
// marks it read, on the page and on the server.
func TestClickingTheFeedsDesktopNotificationOpensAndMarksRead(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	bea := app.CreateUser(t, "Bea", userEmail, userPassword, false)
	tab := newTab(t)
	console := watchConsole(t, tab)
	onEveryPage(t, tab, clickableNotifications)
	signIn(t, tab, app, userEmail, userPassword)
	waitUntil(t, tab, "the feed goes live", `document.getElementById("connection").dataset.state === "live"`, 5*time.Second)

	// opened and focused are what the clicks so far did.
	for i, tc := range []struct {
		url, opened string
		focused     int
	}{
		{"/topics", "/topics _blank noopener", 0},
		{"", "/topics _blank noopener", 1},
	} {
		n := map[string]string{"title": fmt.Sprintf("number %d", i)}
		if tc.url != "" {
			n["url"] = tc.url
		}
		id := app.Notify(t, token, n)
		waitUntil(t, tab, "the desktop notification", fmt.Sprintf(`window.__notes.length === %d`, i+1), 3*time.Second)
		do(t, tab, "click it", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`window.__notes[%d].onclick(new Event("click"))`, i)))
		waitUntil(t, tab, "marked read on the page", fmt.Sprintf(`document.getElementById("notification-%d").classList.contains("read")`, id), 3*time.Second)
		got := eval[struct {
			Tag     string `json:"tag"`
			Closed  bool   `json:"closed"`
			Opened  string `json:"opened"`
			Focused int    `json:"focused"`
		}](t, tab, fmt.Sprintf(`({tag: window.__notes[%d].tag, closed: !!window.__notes[%d].closed,
			opened: window.__opened.join("|"), focused: window.__focused})`, i, i))
		if got.Tag != fmt.Sprintf("beacon-%d", id) || !got.Closed || got.Opened != tc.opened || got.Focused != tc.focused {
			t.Errorf("clicked %d (url %q): %+v, want tag beacon-%d, closed, opened %q, focused %d", id, tc.url, got, id, tc.opened, tc.focused)
		}
		read, err := app.Store.ReadNotificationIDs(t.Context(), bea.ID, []int64{id})
		if err != nil || !read[id] {
			t.Errorf("notification %d not read on the server after the click: %v", id, err)
		}
	}
	if h := readHeader(t, tab); h.Unread != "0" {
		t.Errorf("unread after both clicks: %s", h.Unread)
	}
	console.noProblems(t, "the feed")
}
