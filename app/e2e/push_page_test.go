package e2e

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"beacon/app/apptest"
)

// fakePushManager stands in for the browser's push service, which headless
// Chromium cannot reach: PushManager's subscribe answers with a
// subscription to endpoint with real keys (the server checks them), and
// getSubscription with it until it is unsubscribed. It is kept in
// localStorage, so it outlives a reload, with the key and options the page
// subscribed with, for the test to check.
func fakePushManager(t *testing.T, endpoint string) string {
	t.Helper()
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 16)
	rand.Read(secret)
	b64 := base64.RawURLEncoding.EncodeToString
	return fmt.Sprintf(`(() => {
  if (!self.PushManager) return;
  const saved = "beacon-e2e-push", endpoint = %q, keys = { p256dh: %q, auth: %q };
  function stored() {
    const s = localStorage.getItem(saved);
    if (s === null) return null;
    const o = JSON.parse(s);
    const options = { userVisibleOnly: o.userVisibleOnly, applicationServerKey: Uint8Array.from(atob(o.key), c => c.charCodeAt(0)).buffer };
    return {
      endpoint, expirationTime: null, options,
      toJSON() { return { endpoint, expirationTime: null, keys }; },
      unsubscribe() { localStorage.removeItem(saved); return Promise.resolve(true); },
    };
  }
  PushManager.prototype.subscribe = function (options) {
    const key = new Uint8Array(options.applicationServerKey);
    localStorage.setItem(saved, JSON.stringify({ userVisibleOnly: options.userVisibleOnly, key: btoa(String.fromCharCode(...key)) }));
    return Promise.resolve(stored());
  };
  PushManager.prototype.getSubscription = function () { return Promise.resolve(stored()); };
})();`, endpoint, b64(k.PublicKey().Bytes()), b64(secret))
}

// onEveryPage runs script in each document the tab loads, before its own.
func onEveryPage(t *testing.T, ctx context.Context, script string) {
	t.Helper()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: script}); err != nil {
		t.Fatal(err)
	}
}

// pushApp is the app with a stand-in push service on this machine allowed
// (WEBPUSH_ALLOWED_HOSTS), and the endpoint the fake PushManager names.
func pushApp(t *testing.T) (*apptest.App, string) {
	t.Helper()
	service := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(service.Close)
	app := apptest.New(t, apptest.Options{Env: map[string]string{"WEBPUSH_ALLOWED_HOSTS": "127.0.0.1"}})
	return app, service.URL + "/push/e2e"
}

// settingsState is what /settings shows of push notifications.
type settingsState struct {
	Toggle        string `json:"toggle"` // the button's text, "" while hidden
	Status        string `json:"status"`
	Devices       int    `json:"devices"`
	NoDevices     bool   `json:"noDevices"`
	NoSupportText bool   `json:"noSupportText"`
}

func readSettings(t *testing.T, ctx context.Context) settingsState {
	t.Helper()
	return eval[settingsState](t, ctx, `({
		toggle: document.getElementById("push-toggle").hidden ? "" : document.getElementById("push-toggle").textContent,
		status: document.getElementById("push-status").textContent,
		devices: document.querySelectorAll("#devices .device").length,
		noDevices: !!document.querySelector("#devices .empty"),
		noSupportText: !document.getElementById("push-unsupported").hidden,
	})`)
}

// The settings page turns push notifications on for this browser
// (permission, the worker, a subscription with the server's key, saved on
// the server), lists it, knows it after a reload, and turns it off again
// on both ends. The push service is faked (fakePushManager).
func TestSettingsTurnPushOnAndOffForThisBrowser(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app, endpoint := pushApp(t)
	bea := app.CreateUser(t, "Bea", userEmail, userPassword, false)
	tab := newTab(t)
	console := watchConsole(t, tab)
	onEveryPage(t, tab, fakePushManager(t, endpoint))
	allowNotifications(t, tab, app.URL)
	signIn(t, tab, app, userEmail, userPassword)

	open(t, tab, app.URL+"/settings", http.StatusOK)
	waitUntil(t, tab, "the button", `!document.getElementById("push-toggle").hidden`, 2*time.Second)
	if s := readSettings(t, tab); s.Toggle != "Push notifications on this device" || s.Devices != 0 || !s.NoDevices || s.NoSupportText {
		t.Fatalf("settings before: %+v", s)
	}
	do(t, tab, "turn push on", chromedp.Click(chromedp.ID("push-toggle")))
	waitUntil(t, tab, "turned on", `document.getElementById("push-status").textContent.includes("on for this browser")`, 5*time.Second)
	waitUntil(t, tab, "the device listed", `document.querySelectorAll("#devices .device").length === 1`, 2*time.Second)
	if s := readSettings(t, tab); s.Toggle != "Turn off on this device" || s.NoDevices {
		t.Fatalf("settings after turning on: %+v", s)
	}
	subs, err := app.Store.PushSubscriptionsOf(t.Context(), bea.ID)
	if err != nil || len(subs) != 1 || subs[0].Endpoint != endpoint {
		t.Fatalf("the server's subscriptions for Bea: %+v %v, want the one to %s", subs, err, endpoint)
	}
	var subscribed struct {
		UserVisibleOnly bool   `json:"userVisibleOnly"`
		Key             string `json:"key"`
	}
	if err := json.Unmarshal([]byte(eval[string](t, tab, `localStorage.getItem("beacon-e2e-push")`)), &subscribed); err != nil {
		t.Fatal(err)
	}
	if key := serverKey(t, app); !subscribed.UserVisibleOnly || subscribed.Key != base64.StdEncoding.EncodeToString(key) {
		t.Errorf("subscribed with %+v, want userVisibleOnly and the server's key %x", subscribed, key)
	}
	worker, err := chromedp.Run(tab, chromedp.Evaluate[string](
		`navigator.serviceWorker.getRegistration("/").then(r => r && r.active ? r.active.scriptURL : "")`, chromedp.EvalAwaitPromise))
	if err != nil || worker != app.URL+"/sw.js" {
		t.Errorf("the registered worker: %q %v, want /sw.js", worker, err)
	}

	open(t, tab, app.URL+"/settings", http.StatusOK)
	waitUntil(t, tab, "the button after a reload", `document.getElementById("push-toggle").textContent === "Turn off on this device"`, 2*time.Second)
	do(t, tab, "turn push off", chromedp.Click(chromedp.ID("push-toggle")))
	waitUntil(t, tab, "turned off", `document.getElementById("push-status").textContent.includes("off for this browser")`, 5*time.Second)
	waitUntil(t, tab, "the device gone", `!!document.querySelector("#devices .empty")`, 2*time.Second)
	if s := readSettings(t, tab); s.Toggle != "Push notifications on this device" || s.Devices != 0 {
		t.Fatalf("settings after turning off: %+v", s)
	}
	if subs, err := app.Store.PushSubscriptionsOf(t.Context(), bea.ID); err != nil || len(subs) != 0 {
		t.Fatalf("the server's subscriptions after turning off: %+v %v", subs, err)
	}
	if left := eval[bool](t, tab, `localStorage.getItem("beacon-e2e-push") !== null`); left {
		t.Error("the browser's subscription is still there")
	}
	console.noProblems(t, "/settings")
}

// serverKey is the public key the app gives browsers to subscribe with.
func serverKey(t *testing.T, app *apptest.App) []byte {
	t.Helper()
	resp, body := app.Client(t).Get(t, "/push/key")
	var out struct {
		PublicKey string `json:"public_key"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &out) != nil {
		t.Fatalf("GET /push/key: %d %s", resp.StatusCode, body)
	}
	key, err := base64.RawURLEncoding.DecodeString(out.PublicKey)
	if err != nil || len(key) != 65 {
		t.Fatalf("the server's key %q: %v", out.PublicKey, err)
	}
	return key
}

// Once desktop notifications are allowed on the feed, and not before, it
// offers them for closed tabs too, and the offer subscribes this browser.
func TestFeedOffersPushOnceDesktopNotificationsAreAllowed(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app, endpoint := pushApp(t)
	bea := app.CreateUser(t, "Bea", userEmail, userPassword, false)
	tab := newTab(t)
	console := watchConsole(t, tab)
	onEveryPage(t, tab, fakeNotifications)
	onEveryPage(t, tab, fakePushManager(t, endpoint))
	signIn(t, tab, app, userEmail, userPassword)
	waitUntil(t, tab, "the feed goes live", `document.getElementById("connection").dataset.state === "live"`, 5*time.Second)
	if offered := eval[bool](t, tab, `!document.getElementById("push-offer").hidden || window.__asked > 0`); offered {
		t.Fatal("the feed offered push or asked for permission on load")
	}
	do(t, tab, "enable desktop notifications", chromedp.Click(chromedp.ID("desktop-notify")))
	waitUntil(t, tab, "the offer", `!document.getElementById("push-offer").hidden`, 2*time.Second)
	do(t, tab, "take the offer", chromedp.Click(chromedp.ID("push-offer")))
	waitUntil(t, tab, "turned on", `document.getElementById("push-status").textContent.includes("on for this browser")`, 5*time.Second)
	if hidden := eval[bool](t, tab, `document.getElementById("push-offer").hidden`); !hidden {
		t.Error("the offer stays after it was taken")
	}
	if subs, err := app.Store.PushSubscriptionsOf(t.Context(), bea.ID); err != nil || len(subs) != 1 || subs[0].Endpoint != endpoint {
		t.Fatalf("the server's subscriptions for Bea: %+v %v", subs, err)
	}
	console.noProblems(t, "the feed")
}
