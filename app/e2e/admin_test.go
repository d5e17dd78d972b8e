package e2e

import (
	"context"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"

	"beacon/app/apptest"
)

// adminFormErrors is what the admin form shows about its errors.
type adminFormErrors struct {
	Alert        string   `json:"alert"`        // the summary above the form
	FieldErrors  []string `json:"fieldErrors"`  // each field's message
	TitleInvalid string   `json:"titleInvalid"` // the title input's aria-invalid
	Body         string   `json:"body"`         // the body kept from the submission
}

func readFormErrors(t *testing.T, ctx context.Context) adminFormErrors {
	t.Helper()
	return eval[adminFormErrors](t, ctx, `({
		alert: document.querySelector("main [role=alert]")?.innerText ?? "",
		fieldErrors: Array.from(document.querySelectorAll("main .field-error"), e => e.innerText),
		titleInvalid: document.querySelector("input[name=title]").getAttribute("aria-invalid") ?? "",
		body: document.querySelector("textarea[name=body]").value,
	})`)
}

// An admin who signed in through /login and sends the form without a title
// gets it back with status 422, the errors shown and what they typed kept.
func TestAdminFormShowsErrors(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app, _, _ := apptest.WithAdmin(t, apptest.Options{})
	tab := newTab(t)
	console := watchConsole(t, tab)

	signIn(t, tab, app, adminEmail, adminPassword)
	open(t, tab, app.URL+"/admin/notifications/new", http.StatusOK)
	if e := readFormErrors(t, tab); e.Alert != "" || len(e.FieldErrors) != 0 || e.TitleInvalid == "true" {
		t.Fatalf("the empty form already shows errors: %+v", e)
	}
	do(t, tab, "fill in the body only",
		chromedp.SendKeys(chromedp.CSS(`textarea[name=body]`), "Kept after the error"),
	)
	if status := submit(t, tab, `form[action="/admin/notifications"] button[type=submit]`); status != http.StatusUnprocessableEntity {
		t.Fatalf("submit without a title: status %d, want 422", status)
	}
	do(t, tab, "wait for the errors", chromedp.WaitVisible(chromedp.CSS("main .field-error")))
	e := readFormErrors(t, tab)
	if e.Alert == "" || len(e.FieldErrors) != 1 || e.FieldErrors[0] != "can't be blank" ||
		e.TitleInvalid != "true" || e.Body != "Kept after the error" {
		t.Fatalf("form after the error: %+v, want the alert, \"can't be blank\" for the title, aria-invalid and the body kept", e)
	}
	if n := app.LastNotificationID(t); n != 0 {
		t.Fatalf("an invalid form stored notification %d", n)
	}
	console.noProblemsBut(t, "the form with errors", app.URL+"/admin/notifications", http.StatusUnprocessableEntity)
}
