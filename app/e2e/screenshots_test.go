package e2e

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// colorScheme makes the tab's pages see prefers-color-scheme: scheme.
func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}

// screenshot saves the whole page as test-output/name.png.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100 means PNG
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot %s is not a PNG", name)
	}
	path := filepath.Join(outputDir(t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}

// TestScreenshots saves the main pages in both colour schemes for people to
// look at (test-output/*.png). It checks only that each page shows what it
// should and that the dark scheme really changes the colours.
func TestScreenshots(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app, _, token := adminApp(t)
	for _, n := range []map[string]string{
		{"title": "Welcome to Beacon", "body": "Notifications show up here as soon as they are posted."},
		{"title": "Deploy finished", "body": "v1.2 is live.", "level": "success"},
		{"title": "Maintenance tonight at 22:00 UTC", "body": "The API will be read-only for about ten minutes.\nPlan your jobs around it.", "level": "warning"},
		{"title": "Payments are failing for some cards", "body": "We are on it.", "level": "error"},
		{"title": "A title long enough to wrap onto a second line on a narrow screen, as real titles sometimes are"},
	} {
		notify(t, app, token, n)
	}

	backgrounds := map[string]string{}
	for _, scheme := range []string{"light", "dark"} {
		tab := newTab(t)
		do(t, tab, "emulate "+scheme, colorScheme(scheme), chromedp.EmulateViewport(1024, 768))

		open(t, tab, app.URL+"/", http.StatusOK)
		do(t, tab, "wait for the feed", chromedp.WaitVisible(chromedp.CSS("#notifications > li:nth-child(5)")))
		screenshot(t, tab, "feed-"+scheme)
		backgrounds[scheme] = eval[string](t, tab, `getComputedStyle(document.body).backgroundColor`)

		do(t, tab, "narrow the viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
		open(t, tab, app.URL+"/", http.StatusOK)
		do(t, tab, "wait for the feed", chromedp.WaitVisible(chromedp.CSS("#notifications > li")))
		screenshot(t, tab, "feed-phone-"+scheme)
		do(t, tab, "widen the viewport", chromedp.EmulateViewport(1024, 768))

		open(t, tab, app.URL+"/login", http.StatusOK)
		do(t, tab, "wait for the form", chromedp.WaitVisible(chromedp.CSS(`form[action="/login"]`)))
		screenshot(t, tab, "login-"+scheme)

		signIn(t, tab, app, adminEmail, adminPassword)
		open(t, tab, app.URL+"/admin/notifications/new", http.StatusOK)
		if status := submit(t, tab, `form[action="/admin/notifications"] button[type=submit]`); status != http.StatusUnprocessableEntity {
			t.Fatalf("submit without a title: status %d, want 422", status)
		}
		do(t, tab, "wait for the errors", chromedp.WaitVisible(chromedp.CSS("main .field-error")))
		screenshot(t, tab, "admin-form-errors-"+scheme)
	}
	if backgrounds["light"] == backgrounds["dark"] {
		t.Errorf("the page background is %s in both colour schemes", backgrounds["light"])
	}
}
