package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"beacon/app/apptest"
)

const (
	adminEmail    = apptest.AdminEmail
	adminPassword = apptest.AdminPassword
)

// do runs browser actions and fails the test on the first error.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// open navigates and checks the document's status.
func open(t *testing.T, ctx context.Context, url string, status int64) {
	t.Helper()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	if resp == nil || resp.Status != status {
		t.Fatalf("open %s: response %+v, want status %d", url, resp, status)
	}
}

// submit clicks a form's button and returns the status of the page the
// browser ends on (after any redirect).
func submit(t *testing.T, ctx context.Context, button string) int64 {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(button)))
	if err != nil {
		t.Fatalf("submit %s: %v", button, err)
	}
	if resp == nil {
		t.Fatalf("submit %s: no response", button)
	}
	return resp.Status
}

// signIn signs the tab in through the /login form, as a person would.
func signIn(t *testing.T, ctx context.Context, app *apptest.App, email, password string) {
	t.Helper()
	open(t, ctx, app.URL+"/login", http.StatusOK)
	do(t, ctx, "fill in /login",
		chromedp.SendKeys(chromedp.CSS(`input[name=email]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), password),
	)
	if status := submit(t, ctx, `form[action="/login"] button[type=submit]`); status != http.StatusOK {
		t.Fatalf("sign in: ended on status %d", status)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || strings.HasSuffix(loc, "/login") {
		t.Fatalf("sign in as %s: still at %s (%v)", email, loc, err)
	}
}

// consoleWatch collects what a tab writes to its console: console calls,
// uncaught exceptions, the browser's own log (failed loads, refused
// scripts) and every CSP violation the document reports.
type consoleWatch struct {
	ctx   context.Context
	marks chan string
	next  int

	mu   sync.Mutex
	msgs []chromedp.ConsoleMessage
}

// markPrefix starts the console lines the watch itself writes to know
// that it has seen everything before them.
const markPrefix = "beacon-e2e-mark-"

// cspListener runs in every document before its own scripts. Chrome also
// logs most violations itself, but the event is what the standard
// promises, so it is the one the tests rely on.
const cspListener = `document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "?") +
    " at " + e.sourceFile + ":" + e.lineNumber);
});`

// watchConsole starts watching the tab; call it before navigating.
func watchConsole(t *testing.T, ctx context.Context) *consoleWatch {
	t.Helper()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: cspListener}); err != nil {
		t.Fatalf("install the CSP listener: %v", err)
	}
	w := &consoleWatch{ctx: ctx, marks: make(chan string)}
	messages := chromedp.Console(ctx)
	go func() {
		// The iterator ends with the tab's context.
		for m, err := range messages {
			if err != nil {
				return
			}
			if strings.HasPrefix(m.Text, markPrefix) {
				select {
				case w.marks <- m.Text:
				case <-ctx.Done():
					return
				}
				continue
			}
			w.mu.Lock()
			w.msgs = append(w.msgs, m)
			w.mu.Unlock()
		}
	}()
	return w
}

// problems returns the errors, exceptions and CSP violations written since
// the last call. It writes a mark to the console and waits for it, so
// everything the page wrote before is in.
func (w *consoleWatch) problems(t *testing.T) []string {
	t.Helper()
	w.next++
	mark := markPrefix + strconv.Itoa(w.next)
	do(t, w.ctx, "write a console mark", chromedp.Evaluate[chromedp.Void](fmt.Sprintf("console.debug(%q)", mark)))
	for got := ""; got != mark; {
		select {
		case got = <-w.marks:
		case <-w.ctx.Done():
			t.Fatalf("console mark %s never arrived: %v", mark, w.ctx.Err())
		}
	}
	w.mu.Lock()
	msgs := w.msgs
	w.msgs = nil
	w.mu.Unlock()
	var out []string
	for _, m := range msgs {
		if m.Type == chromedp.ConsoleError || m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
			where := m.URL
			if where != "" {
				where = fmt.Sprintf(" (%s:%d)", where, m.Line+1)
			}
			out = append(out, m.String()+where)
		}
	}
	return out
}

// noProblems fails the test if the tab wrote any error since the last check.
func (w *consoleWatch) noProblems(t *testing.T, what string) {
	t.Helper()
	w.noProblemsBut(t, what, "", 0)
}

// noProblemsBut is noProblems for a page whose document answers status on
// purpose (404, 422): the browser logs that as an error, and it is the page
// doing its job. Any other error still fails the test.
func (w *consoleWatch) noProblemsBut(t *testing.T, what, documentURL string, status int64) {
	t.Helper()
	own := fmt.Sprintf("status of %d ", status)
	for _, p := range w.problems(t) {
		if status != 0 && strings.Contains(p, own) && strings.HasSuffix(p, "("+documentURL+":1)") {
			continue
		}
		t.Errorf("%s: console: %s", what, p)
	}
}

// outputDir is test-output/ at the repository root, where screenshots go
// for people to look at; it is git-ignored.
func outputDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
	out := filepath.Join(dir, "test-output")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}
