package e2e

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"beacon/app/apptest"
)

// Without JavaScript an admin creates a topic, is told of an unknown
// email, adds a member and deletes the group after confirming; a user
// follows and leaves the topic from /topics. Every step is a plain form.
func TestGroupsAndTopicsWithoutJavaScript(t *testing.T) {
	needBrowser(t)
	t.Parallel()
	app, _, _ := apptest.WithAdmin(t, apptest.Options{})
	bea := app.CreateUser(t, "Bea", userEmail, userPassword, false)
	admin := newTab(t)
	user := newTab(t)
	noScripts(t, admin)
	noScripts(t, user)
	ctx := context.Background()
	groupsOfBea := func() []int64 {
		t.Helper()
		ids, err := app.Store.GroupIDsOf(ctx, bea.ID)
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}

	signIn(t, admin, app, adminEmail, adminPassword)
	open(t, admin, app.URL+"/admin/groups", http.StatusOK)
	do(t, admin, "fill in the new group",
		chromedp.SendKeys(chromedp.ID("name"), "deploys"),
		chromedp.Click(chromedp.ID("open")),
	)
	if status := submit(t, admin, `form[action="/admin/groups"] button[type=submit]`); status != http.StatusOK {
		t.Fatalf("create: ended on status %d", status)
	}
	if kind := eval[string](t, admin, `document.querySelector("#group-deploys td:nth-child(2)")?.textContent.trim() ?? ""`); kind != "open topic" {
		t.Fatalf("the new group's row says %q", kind)
	}
	do(t, admin, "type an unknown email", chromedp.SendKeys(chromedp.ID("email-deploys"), "nobody@example.com"))
	if status := submit(t, admin, `#group-deploys form.member-form button`); status != http.StatusUnprocessableEntity {
		t.Fatalf("add an unknown email: ended on status %d, want 422", status)
	}
	if msg := eval[string](t, admin, `document.getElementById("email-deploys-error")?.textContent ?? ""`); !strings.Contains(msg, "no user") {
		t.Fatalf("the error under the email field: %q", msg)
	}

	signIn(t, user, app, userEmail, userPassword)
	open(t, user, app.URL+"/", http.StatusOK)
	do(t, user, "follow the nav link to /topics", chromedp.Click(chromedp.CSS(`nav a[href="/topics"]`)))
	do(t, user, "wait for the topic", chromedp.WaitVisible(chromedp.ID("topic-deploys")))
	if status := submit(t, user, `#topic-deploys button`); status != http.StatusOK {
		t.Fatalf("follow: ended on status %d", status)
	}
	if len(groupsOfBea()) != 1 || !strings.Contains(eval[string](t, user, `document.getElementById("topic-deploys").textContent`), "following") {
		t.Fatalf("after Follow: groups %v", groupsOfBea())
	}
	if status := submit(t, user, `#topic-deploys button`); status != http.StatusOK {
		t.Fatalf("leave: ended on status %d", status)
	}
	if len(groupsOfBea()) != 0 {
		t.Fatalf("after Leave: groups %v", groupsOfBea())
	}

	open(t, admin, app.URL+"/admin/groups", http.StatusOK)
	do(t, admin, "type Bea's email", chromedp.SendKeys(chromedp.ID("email-deploys"), userEmail))
	if status := submit(t, admin, `#group-deploys form.member-form button`); status != http.StatusOK {
		t.Fatalf("add Bea: ended on status %d", status)
	}
	members := eval[[]string](t, admin, `Array.from(document.querySelectorAll("#group-deploys .members li"), e => e.firstChild.textContent.trim())`)
	if !slices.Equal(members, []string{userEmail}) || len(groupsOfBea()) != 1 {
		t.Fatalf("members shown %v, Bea's groups %v", members, groupsOfBea())
	}
	if status := submit(t, admin, `#group-deploys .row-actions button`); status != http.StatusOK {
		t.Fatalf("delete: ended on status %d", status)
	}
	if len(groupsOfBea()) != 1 {
		t.Fatal("the group went before the delete was confirmed")
	}
	if status := submit(t, admin, `main form button.danger`); status != http.StatusOK {
		t.Fatalf("confirm the delete: ended on status %d", status)
	}
	if empty := eval[string](t, admin, `document.querySelector("main .empty")?.textContent ?? ""`); empty != "No groups yet." || len(groupsOfBea()) != 0 {
		t.Fatalf("after deleting: %q, Bea's groups %v", empty, groupsOfBea())
	}
}
