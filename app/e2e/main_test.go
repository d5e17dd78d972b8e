// Package e2e drives the real app in a headless Chromium: what only a
// browser shows (the feed's script, escaping in the DOM, CSP, the colour
// schemes) is checked here. The tests skip where no Chromium is installed,
// unless BEACON_BROWSER_TESTS=required, as in CI.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.uber.org/goleak"
)

const (
	chromiumPath = "/usr/bin/chromium"
	// tabTimeout bounds everything one test does in one tab, so a page that
	// never shows what a test waits for fails the test instead of hanging.
	tabTimeout = 30 * time.Second
	// startTimeout bounds the browser's start: the pipe has no timeout of its own.
	startTimeout = 30 * time.Second
)

// browser is the one Chromium every test of the package opens tabs in:
// starting it costs a second, a tab a few milliseconds. It is nil when the
// tests skip, and skipReason says why.
var (
	browser    context.Context
	skipReason string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	required := os.Getenv("BEACON_BROWSER_TESTS") == "required"
	ctx, stop, err := startBrowser()
	switch {
	case err != nil && required:
		fmt.Fprintf(os.Stderr, "browser tests: %v (BEACON_BROWSER_TESTS=required)\n", err)
		return 1
	case err != nil:
		skipReason = "browser tests skipped: " + strings.TrimSpace(err.Error())
	default:
		browser = ctx
	}
	code := m.Run()
	stop()
	if code != 0 {
		return code
	}
	// The browser has exited, so every goroutine of ours and chromedp's
	// must have ended too.
	if err := goleak.Find(
		// database/sql's connection opener lives until its DB is closed,
		// and net/http keeps idle keep-alive connections around.
		goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
		// scs.New starts a memory store's cleanup loop before we replace the store.
		goleak.IgnoreTopFunction("github.com/alexedwards/scs/v2/memstore.(*MemStore).startCleanup"),
	); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startBrowser starts Chromium with a fresh profile. stop ends it and
// removes the profile; it is never nil.
func startBrowser() (ctx context.Context, stop func(), err error) {
	stop = func() {}
	if _, err := os.Stat(chromiumPath); err != nil {
		return nil, stop, errors.New(chromiumPath + " not found; apt-get install chromium")
	}
	profile, err := os.MkdirTemp("", "beacon-chromium-")
	if err != nil {
		return nil, stop, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(profile),
		// Root in a container has no sandbox to offer.
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		// Nothing but the app under test may be reached.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(alloc)
	stop = func() {
		cancelBrowser()
		cancelAlloc()
		os.RemoveAll(profile)
	}

	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err = <-started:
	case <-time.After(startTimeout):
		err = fmt.Errorf("no answer within %v", startTimeout)
	}
	if err != nil {
		stop()
		return nil, func() {}, fmt.Errorf("start %s: %w", chromiumPath, err)
	}
	return ctx, stop, nil
}

// needBrowser skips the test, before it starts anything, where the
// browser tests cannot run.
func needBrowser(t *testing.T) {
	t.Helper()
	if browser == nil {
		t.Skip(skipReason)
	}
}

// newTab opens a tab in a browser context of its own (its own cookies), so
// tests run in parallel without seeing each other's sessions. The tab closes
// when the test ends; open it after apptest.New, so it closes first and
// its event stream is gone before the server stops.
func newTab(t *testing.T) context.Context {
	t.Helper()
	needBrowser(t)
	tab, closeTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	// The first action creates the tab; its context must not have a
	// timeout, or the timeout would close the tab.
	if err := chromedp.Do(tab); err != nil {
		closeTab()
		t.Fatalf("open tab: %v", err)
	}
	ctx, cancel := context.WithTimeout(tab, tabTimeout)
	t.Cleanup(func() {
		cancel()
		closeTab()
	})
	return ctx
}
