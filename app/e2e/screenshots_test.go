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

	"beacon/app/apptest"
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

// lowContrast lists the page's text that has less than 4.5:1 contrast with
// the background it sits on (the nearest opaque one up the tree): WCAG AA
// for normal text.
func lowContrast(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return eval[[]string](t, ctx, `(() => {
		const rgba = s => s.match(/[\d.]+/g).map(Number);
		const lum = ([r, g, b]) => {
			const f = c => (c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
			return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
		};
		const background = e => {
			for (; e; e = e.parentElement) {
				const c = rgba(getComputedStyle(e).backgroundColor);
				if (c.length < 4 || c[3] > 0) return c;
			}
			return [255, 255, 255];
		};
		const out = [];
		const texts = ".level, .level-icon, time, .title, .body, .field-error, .alert, .hint, .empty, label, button, .button, .unread-badge, a, .connection-text, .user-name, h1";
		for (const e of document.querySelectorAll(texts)) {
			if (!e.checkVisibility() || e.textContent.trim() === "") continue;
			const a = lum(rgba(getComputedStyle(e).color)), b = lum(background(e));
			const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
			if (ratio < 4.5) out.push(e.tagName.toLowerCase() + "." + e.className + " \"" + e.textContent.trim().slice(0, 30) + "\": " + ratio.toFixed(2) + ":1");
		}
		return out;
	})()`)
}

// TestScreenshots saves the main pages in both colour schemes for people to
// look at (test-output/*.png). It checks that each page shows what it
// should, that the dark scheme really changes the colours, and that text
// keeps 4.5:1 contrast in both.
func TestScreenshots(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	for _, n := range []map[string]string{
		{"title": "Welcome to Beacon", "body": "Notifications show up here as soon as they are posted."},
		{"title": "Deploy finished", "body": "v1.2 is live.", "level": "success"},
		{"title": "Maintenance tonight at 22:00 UTC", "body": "The API will be read-only for about ten minutes.\nPlan your jobs around it.", "level": "warning"},
		{"title": "Payments are failing for some cards", "body": "We are on it.", "level": "error"},
		{"title": "A title long enough to wrap onto a second line on a narrow screen, as real titles sometimes are"},
	} {
		app.Notify(t, token, n)
	}

	ctx := context.Background()
	for _, g := range []struct {
		name string
		open bool
	}{{"ops", false}, {"deploys", true}, {"incidents", true}} {
		if _, err := app.Store.CreateGroup(ctx, g.name, g.open); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := app.Store.AddGroupMembers(ctx, "ops", []string{adminEmail}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Store.AddGroupMembers(ctx, "deploys", []string{adminEmail}); err != nil {
		t.Fatal(err)
	}

	backgrounds := map[string]string{}
	for _, scheme := range []string{"light", "dark"} {
		tab := newTab(t)
		do(t, tab, "emulate "+scheme, colorScheme(scheme), chromedp.EmulateViewport(1024, 768))

		open(t, tab, app.URL+"/", http.StatusOK)
		do(t, tab, "wait for the feed", chromedp.WaitVisible(chromedp.CSS("#notifications > li:nth-child(5)")))
		screenshot(t, tab, "feed-"+scheme)
		if low := lowContrast(t, tab); len(low) > 0 {
			t.Errorf("feed, %s: low contrast: %q", scheme, low)
		}
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
		if low := lowContrast(t, tab); len(low) > 0 {
			t.Errorf("admin form with errors, %s: low contrast: %q", scheme, low)
		}

		for _, p := range []struct{ path, name, shows string }{
			{"/admin/groups", "admin-groups", "#group-ops .members"},
			{"/topics", "topics", "#topic-incidents"},
		} {
			open(t, tab, app.URL+p.path, http.StatusOK)
			do(t, tab, "wait for "+p.path, chromedp.WaitVisible(chromedp.CSS(p.shows)))
			screenshot(t, tab, p.name+"-"+scheme)
			if low := lowContrast(t, tab); len(low) > 0 {
				t.Errorf("%s, %s: low contrast: %q", p.path, scheme, low)
			}
		}
		open(t, tab, app.URL+"/admin/groups", http.StatusOK)
		if status := submit(t, tab, `#group-ops .row-actions button`); status != http.StatusOK {
			t.Fatalf("delete ops: status %d, want the confirmation", status)
		}
		do(t, tab, "wait for the confirmation", chromedp.WaitVisible(chromedp.CSS("button.danger")))
		screenshot(t, tab, "admin-group-delete-"+scheme)
		if low := lowContrast(t, tab); len(low) > 0 {
			t.Errorf("group delete confirmation, %s: low contrast: %q", scheme, low)
		}
	}
	if backgrounds["light"] == backgrounds["dark"] {
		t.Errorf("the page background is %s in both colour schemes", backgrounds["light"])
	}
}
