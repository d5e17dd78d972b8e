package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"beacon/app/apptest"
)

// Headless Chromium reaches no push service, so these tests hand pushes to
// the service worker through the DevTools protocol
// (ServiceWorker.deliverPushMessage) and look from inside the worker, so
// that no window of ours is open when none should be.

// allowNotifications grants the origin the notification permission in the
// tab's browser context, as a person answering the browser's prompt would.
func allowNotifications(t *testing.T, ctx context.Context, origin string) {
	t.Helper()
	_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
		Permission:       &cdpbrowser.PermissionDescriptor{Name: "notifications"},
		Setting:          cdpbrowser.PermissionSettingGranted,
		Origin:           origin,
		BrowserContextID: chromedp.FromContext(ctx).BrowserContextID,
	})
	if err != nil {
		t.Fatalf("grant notifications to %s: %v", origin, err)
	}
}

// shownModel keeps the worker's view of what it shows in memory: each
// showNotification still goes to the browser (which checks the permission
// and the options), and once it resolves the notification is listed for
// getNotifications until closed or replaced under its tag. Headless
// Chromium displays a notification a while after showNotification
// resolves, and a getNotifications call in that while drops it for good
// (its displayed-notifications sync), which made every check on the real
// list flaky, the worker's own lookups included.
const shownModel = `(() => {
  const reg = self.registration, show = reg.showNotification.bind(reg), shown = new Map();
  self.__shown = shown;
  self.__failures = [];
  reg.showNotification = (title, options) => show(title, options).then(() => {
    const n = { title, tag: options.tag, body: options.body, icon: new URL(options.icon, location.href).href, data: options.data,
      close() { if (shown.get(this.tag) === this) shown.delete(this.tag); } };
    shown.set(n.tag, n);
  }, err => { self.__failures.push(String(err)); throw err; });
  reg.getNotifications = filter => Promise.resolve([...shown.values()].filter(n => !filter || !filter.tag || n.tag === filter.tag));
})()`

// worker is Beacon's service worker in one tab's browser context.
type worker struct {
	tab, ctx     context.Context // the tab it was registered from; the worker's own target
	origin       string
	registration serviceworker.RegistrationID
	errors       chan string
}

// registerWorker registers /sw.js from the tab's page, waits until it is
// active, attaches to it, and puts shownModel in place.
func registerWorker(t *testing.T, tab context.Context, origin string) *worker {
	t.Helper()
	w := &worker{tab: tab, origin: origin, errors: make(chan string, 16)}
	regs := chromedp.Events(tab, serviceworker.WorkerRegistrationUpdated)
	if err := chromedp.Listen(tab, func(ev any) {
		if e, ok := ev.(*serviceworker.EventWorkerErrorReported); ok {
			select {
			case w.errors <- fmt.Sprintf("%s:%d: %s", e.ErrorMessage.SourceURL, e.ErrorMessage.LineNumber, e.ErrorMessage.ErrorMessage):
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(tab, serviceworker.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("ServiceWorker.enable: %v", err)
	}
	scope, err := chromedp.Run(tab, chromedp.Evaluate[string](
		`navigator.serviceWorker.register("/sw.js").then(() => navigator.serviceWorker.ready).then(r => r.scope)`, chromedp.EvalAwaitPromise))
	if err != nil || scope != origin+"/" {
		t.Fatalf("the worker's scope: %q (%v), want %q", scope, err, origin+"/")
	}
	for ev, err := range regs {
		if err != nil {
			t.Fatalf("waiting for the worker's registration: %v", err)
		}
		if i := slices.IndexFunc(ev.Registrations, func(r *serviceworker.Registration) bool {
			return r.ScopeURL == origin+"/" && !r.IsDeleted
		}); i >= 0 {
			w.registration = ev.Registrations[i].RegistrationID
			break
		}
	}
	targets, err := chromedp.Targets(tab)
	if err != nil {
		t.Fatal(err)
	}
	browserContext := chromedp.FromContext(tab).BrowserContextID
	i := slices.IndexFunc(targets, func(ti *target.Info) bool {
		return ti.Type == "service_worker" && ti.URL == origin+"/sw.js" && ti.BrowserContextID == browserContext
	})
	if i < 0 {
		t.Fatalf("no service worker target for %s among %d targets", origin, len(targets))
	}
	// Detach when done: closing the target would stop the worker.
	ctx, cancel := chromedp.NewContext(tab, chromedp.WithTargetID(targets[i].TargetID), chromedp.WithDetachOnCancel())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](shownModel)); err != nil {
		t.Fatalf("attach to the worker: %v", err)
	}
	w.ctx = ctx
	return w
}

// push hands the worker one push message, as the push service would; a
// string is sent as it is.
func (w *worker) push(t *testing.T, msg any) {
	t.Helper()
	data, ok := msg.(string)
	if !ok {
		b, err := json.Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		data = string(b)
	}
	if _, err := chromedp.Call(w.tab, serviceworker.DeliverPushMessage, serviceworker.DeliverPushMessageParams{
		Origin: w.origin, RegistrationID: w.registration, Data: data}); err != nil {
		t.Fatalf("deliver %s: %v", data, err)
	}
}

// shownNotification is one notification the worker shows.
type shownNotification struct {
	Tag   string `json:"tag"`
	Title string `json:"title"`
	Body  string `json:"body"`
	Icon  string `json:"icon"`
	Data  struct {
		ID  int64   `json:"id"`
		URL *string `json:"url"`
	} `json:"data"`
}

// shown is what the worker shows now, by tag.
func (w *worker) shown(t *testing.T) map[string]shownNotification {
	t.Helper()
	ns, err := chromedp.Run(w.ctx, chromedp.Evaluate[[]shownNotification](`[...self.__shown.values()]`))
	if err != nil {
		t.Fatalf("read the notifications: %v", err)
	}
	out := map[string]shownNotification{}
	for _, n := range ns {
		out[n.Tag] = n
	}
	return out
}

// waitShown waits until what the worker shows satisfies ok, and returns it.
func (w *worker) waitShown(t *testing.T, what string, ok func(map[string]shownNotification) bool) map[string]shownNotification {
	t.Helper()
	const within = 5 * time.Second
	deadline := time.Now().Add(within)
	for {
		got := w.shown(t)
		if ok(got) {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; shown: %+v", what, within, got)
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-w.ctx.Done():
			t.Fatalf("%s: %v", what, w.ctx.Err())
		}
	}
}

// noErrors fails the test if the worker threw, or the browser refused to
// show a notification.
func (w *worker) noErrors(t *testing.T) {
	t.Helper()
	for _, f := range eval[[]string](t, w.ctx, `self.__failures`) {
		t.Errorf("showNotification failed: %s", f)
	}
	for {
		select {
		case e := <-w.errors:
			t.Errorf("the worker reported an error: %s", e)
		default:
			return
		}
	}
}

// message is a push's payload, as the sender makes it (INTERFACE.md, "Web Push").
func message(kind string, id int64, title string) map[string]any {
	return map[string]any{"kind": kind, "id": id, "title": title, "body": "body of " + title, "level": "info",
		"url": nil, "created_at": "2026-12-01T10:00:00Z"}
}

func hasTag(tag string) func(map[string]shownNotification) bool {
	return func(m map[string]shownNotification) bool { _, ok := m[tag]; return ok }
}

func lacksTag(tag string) func(map[string]shownNotification) bool {
	return func(m map[string]shownNotification) bool { _, ok := m[tag]; return !ok }
}

// The service worker shows a pushed notification while no feed is on
// screen, under the tag beacon-<id>; an update replaces it (and brings
// back none that is not shown); a withdrawal closes it; pushes are handled
// in order; one that arrives while a feed is visible shows nothing, since
// the feed said it. Each check that nothing showed waits for a later push
// that does something, which the worker handles after it.
func TestServiceWorkerShowsUpdatesAndClosesPushes(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app := apptest.New(t, apptest.Options{})
	tab := newTab(t)
	console := watchConsole(t, tab)
	allowNotifications(t, tab, app.URL)
	open(t, tab, app.URL+"/login", http.StatusOK)
	w := registerWorker(t, tab, app.URL)
	// No window of ours from here on.
	do(t, tab, "leave the app", chromedp.Navigate("about:blank"))

	first := message("notification", 41, "Deploy finished")
	first["url"] = "/chat"
	w.push(t, first)
	got := w.waitShown(t, "the first push", hasTag("beacon-41"))
	n := got["beacon-41"]
	if len(got) != 1 || n.Title != "Deploy finished" || n.Body != "body of Deploy finished" ||
		n.Icon != app.URL+"/assets/icon.svg" || n.Data.ID != 41 || n.Data.URL == nil || *n.Data.URL != "/chat" {
		t.Fatalf("after the first push: %+v, want beacon-41 with its title, body, icon and data", got)
	}

	w.push(t, message("update", 41, "Deploy rolled back"))
	got = w.waitShown(t, "the update", func(m map[string]shownNotification) bool { return m["beacon-41"].Title == "Deploy rolled back" })
	if len(got) != 1 || got["beacon-41"].Data.URL != nil {
		t.Fatalf("after the update: %+v, want the one, replaced", got)
	}

	for _, bad := range []string{"not json", `{"kind":"notification","title":"no id"}`, `["a list"]`, `{"kind":"shout","id":7,"title":"no such kind"}`} {
		w.push(t, bad)
	}
	w.push(t, message("update", 42, "dismissed before"))
	w.push(t, message("notification", 43, "Maintenance"))
	got = w.waitShown(t, "the push after the garbage", hasTag("beacon-43"))
	if len(got) != 2 || got["beacon-43"].Title != "Maintenance" || got["beacon-41"].Title != "Deploy rolled back" {
		t.Fatalf("after garbage, an update of one not shown, and a notification: %+v, want 41 and 43", got)
	}

	w.push(t, map[string]any{"kind": "withdraw", "id": 41})
	got = w.waitShown(t, "the withdrawal", lacksTag("beacon-41"))
	if _, ok := got["beacon-43"]; len(got) != 1 || !ok {
		t.Fatalf("after withdrawing 41: %+v, want 43 alone", got)
	}

	// A withdrawal right behind its notification finds it shown.
	w.push(t, message("notification", 46, "short-lived"))
	w.push(t, map[string]any{"kind": "withdraw", "id": 46})
	w.push(t, map[string]any{"kind": "withdraw", "id": 43})
	if got = w.waitShown(t, "the withdrawals", lacksTag("beacon-43")); len(got) != 0 {
		t.Fatalf("after a notification withdrawn at once: %+v shown, want none", got)
	}

	// A visible feed says notifications itself: nothing shows, nothing is
	// updated, and a withdrawal still closes.
	w.push(t, message("notification", 48, "before the feed"))
	w.push(t, message("notification", 49, "to withdraw"))
	w.waitShown(t, "pushes while no window is open", hasTag("beacon-49"))
	open(t, tab, app.URL+"/", http.StatusOK)
	if v := eval[string](t, tab, `document.visibilityState`); v != "visible" {
		t.Fatalf("the feed's visibility: %s", v)
	}
	w.push(t, message("notification", 44, "said by the feed"))
	w.push(t, message("update", 48, "said by the feed too"))
	w.push(t, map[string]any{"kind": "withdraw", "id": 49})
	got = w.waitShown(t, "the withdrawal behind the pushes", lacksTag("beacon-49"))
	if len(got) != 1 || got["beacon-48"].Title != "before the feed" {
		t.Fatalf("pushes while the feed is visible: %+v shown, want 48 as it was", got)
	}
	// Another page of ours says nothing of them: a push shows.
	open(t, tab, app.URL+"/login", http.StatusOK)
	w.push(t, message("notification", 45, "while signing in"))
	w.waitShown(t, "a push while another page is visible", hasTag("beacon-45"))

	w.noErrors(t)
	console.noProblems(t, "the pages that registered the worker")
}
