package controllers_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"beacon/app/apptest"
	"beacon/app/broker"
	"beacon/app/models"
)

// userWakes counts the wake-ups of u's topic on app's broker, as the hub
// that serves u's streams would see them.
func userWakes(t *testing.T, app *apptest.App, u models.User) chan struct{} {
	t.Helper()
	c := make(chan struct{}, 16)
	sub := app.Broker().SubscribeFunc(broker.UserTopic(u.ID), func() {
		select {
		case c <- struct{}{}:
		default:
		}
	})
	t.Cleanup(sub.Close)
	return c
}

// toldAtOnce checks that u's streams on this instance were woken by the
// request that just returned, not later by the membership watch.
func toldAtOnce(t *testing.T, wakes chan struct{}, what string) {
	t.Helper()
	select {
	case <-wakes:
	default:
		t.Fatalf("%s: the user's streams were not told at once", what)
	}
	for len(wakes) > 0 {
		<-wakes
	}
}

// groupsOf is the ids of u's groups.
func groupsOf(t *testing.T, app *apptest.App, u models.User) []int64 {
	t.Helper()
	ids, err := app.Store.GroupIDsOf(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func wantRedirect(t *testing.T, resp *http.Response, body, to, what string) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != to {
		t.Fatalf("%s: %d to %q, want 303 to %s\n%s", what, resp.StatusCode, resp.Header.Get("Location"), to, body)
	}
}

// Admins create groups, add and remove members by email, and delete
// groups on /admin/groups, with plain forms; bad input is 422 with the
// page and its error, and changes nothing.
func TestAdminGroupsPage(t *testing.T) {
	t.Parallel()
	app, _, _ := apptest.WithAdmin(t, apptest.Options{})
	bob := app.CreateUser(t, "Bob", "bob@example.com", "long enough", false)
	ctx := context.Background()
	admin := app.Client(t)
	admin.Login(t, apptest.AdminEmail, apptest.AdminPassword)
	if _, body := admin.Get(t, "/admin/notifications"); !strings.Contains(body, `href="/admin/groups"`) {
		t.Fatal("the admin pages do not link to /admin/groups")
	}
	resp, body := admin.Get(t, "/admin/groups")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "No groups yet") || !strings.Contains(body, `name="_csrf"`) {
		t.Fatalf("GET /admin/groups: %d\n%s", resp.StatusCode, body)
	}

	// Creating.
	for _, tc := range []struct{ name, want string }{
		{"Ops", "a-z"}, {"", "a-z"}, {"on call", "a-z"}, {strings.Repeat("x", 41), "a-z"},
	} {
		resp, body := admin.PostForm(t, "/admin/groups", url.Values{"name": {tc.name}, "open": {"1"}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, tc.want) ||
			!strings.Contains(body, `<form method="post" action="/admin/groups"`) || !strings.Contains(body, `aria-invalid="true"`) {
			t.Fatalf("create %q: %d\n%s", tc.name, resp.StatusCode, body)
		}
		if !strings.Contains(body, `type="checkbox" id="open" name="open" value="1" checked`) {
			t.Fatalf("create %q: the form lost its open box\n%s", tc.name, body)
		}
	}
	if gs, _ := app.Store.Groups(ctx); len(gs) != 0 {
		t.Fatalf("refused names created %+v", gs)
	}
	resp, body = admin.PostForm(t, "/admin/groups", url.Values{"name": {"ops"}})
	wantRedirect(t, resp, body, "/admin/groups", "create ops")
	resp, body = admin.PostForm(t, "/admin/groups", url.Values{"name": {"deploys"}, "open": {"1"}})
	wantRedirect(t, resp, body, "/admin/groups", "create deploys")
	resp, body = admin.PostForm(t, "/admin/groups", url.Values{"name": {"ops"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "There is a group called ops already") {
		t.Fatalf("create a taken name: %d\n%s", resp.StatusCode, body)
	}
	gs, err := app.Store.Groups(ctx)
	if err != nil || len(gs) != 2 || gs[0].Name != "deploys" || !gs[0].Open || gs[1].Name != "ops" || gs[1].Open {
		t.Fatalf("groups %+v %v", gs, err)
	}

	// Members.
	wakes := userWakes(t, app, bob)
	resp, body = admin.PostForm(t, "/admin/groups/ops/add", url.Values{"email": {"nobody@example.com"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "There is no user with that email") ||
		!strings.Contains(body, `value="nobody@example.com"`) || !strings.Contains(body, `aria-describedby="email-ops-error"`) {
		t.Fatalf("add an unknown email: %d\n%s", resp.StatusCode, body)
	}
	resp, body = admin.PostForm(t, "/admin/groups/ops/add", url.Values{"email": {" "}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("add a blank email: %d\n%s", resp.StatusCode, body)
	}
	resp, body = admin.PostForm(t, "/admin/groups/ops/add", url.Values{"email": {"BOB@example.com"}})
	wantRedirect(t, resp, body, "/admin/groups", "add bob")
	toldAtOnce(t, wakes, "add")
	if ids := groupsOf(t, app, bob); len(ids) != 1 || ids[0] != gs[1].ID {
		t.Fatalf("bob's groups %v, want ops", ids)
	}
	_, body = admin.Get(t, "/admin/groups")
	if !strings.Contains(body, "bob@example.com") || !strings.Contains(body, "1 member") || !strings.Contains(body, "open topic") {
		t.Fatalf("the list does not show bob in ops:\n%s", body)
	}
	resp, body = admin.PostForm(t, "/admin/groups/ops/remove", url.Values{"email": {"ghost@example.com"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "There is no user with that email") {
		t.Fatalf("remove an unknown email: %d\n%s", resp.StatusCode, body)
	}
	for _, path := range []string{"/admin/groups/nope/add", "/admin/groups/nope/remove", "/admin/groups/nope/delete", "/admin/groups/No!/add"} {
		if resp, _ := admin.PostForm(t, path, url.Values{"email": {"bob@example.com"}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, resp.StatusCode)
		}
	}
	resp, body = admin.PostForm(t, "/admin/groups/ops/remove", url.Values{"email": {"bob@example.com"}})
	wantRedirect(t, resp, body, "/admin/groups", "remove bob")
	toldAtOnce(t, wakes, "remove")
	if ids := groupsOf(t, app, bob); len(ids) != 0 {
		t.Fatalf("bob is still in %v", ids)
	}

	// Deleting one with members asks first; the answer sends confirm=yes.
	admin.PostForm(t, "/admin/groups/ops/add", url.Values{"email": {"bob@example.com"}})
	toldAtOnce(t, wakes, "add again")
	resp, body = admin.PostForm(t, "/admin/groups/ops/delete", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<input type="hidden" name="confirm" value="yes">`) ||
		!strings.Contains(body, `action="/admin/groups/ops/delete"`) || !strings.Contains(body, "1 member") {
		t.Fatalf("delete ops unconfirmed: %d\n%s", resp.StatusCode, body)
	}
	if ids := groupsOf(t, app, bob); len(ids) != 1 {
		t.Fatal("an unconfirmed delete changed bob's groups")
	}
	resp, body = admin.PostForm(t, "/admin/groups/ops/delete", url.Values{"confirm": {"yes"}})
	wantRedirect(t, resp, body, "/admin/groups", "delete ops")
	toldAtOnce(t, wakes, "delete")
	if ids := groupsOf(t, app, bob); len(ids) != 0 {
		t.Fatalf("bob is in %v after ops went", ids)
	}
	// An empty one goes at once.
	resp, body = admin.PostForm(t, "/admin/groups/deploys/delete", nil)
	wantRedirect(t, resp, body, "/admin/groups", "delete deploys")
	if gs, _ := app.Store.Groups(ctx); len(gs) != 0 {
		t.Fatalf("left: %+v", gs)
	}
	if resp, _ := admin.PostFormRaw(t, "/admin/groups", url.Values{"_csrf": {"forged"}, "name": {"x"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("create without a real CSRF token: %d, want 403", resp.StatusCode)
	}

	// Non-admins and visitors are kept out.
	c := app.Client(t)
	c.Login(t, "bob@example.com", "long enough")
	if _, body := c.Get(t, "/"); strings.Contains(body, `href="/admin/groups"`) {
		t.Error("a user's page links to /admin/groups")
	}
	for _, do := range []func() *http.Response{
		func() *http.Response { r, _ := c.Get(t, "/admin/groups"); return r },
		func() *http.Response { r, _ := c.PostForm(t, "/admin/groups", url.Values{"name": {"mine"}}); return r },
		func() *http.Response { r, _ := c.PostForm(t, "/admin/groups/ops/add", nil); return r },
	} {
		if r := do(); r.StatusCode != http.StatusForbidden {
			t.Errorf("non-admin: %d, want 403", r.StatusCode)
		}
	}
	if r, _ := app.Client(t).Get(t, "/admin/groups"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("visitor: %d, want 303 to /login", r.StatusCode)
	}
}

// Signed-in users follow and leave open groups on /topics; a closed or
// unknown group is 404 and changes nothing; visitors go to /login.
func TestTopicsFollowAndLeave(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		t.Parallel()
		app := apptest.New(t, opts)
		bea := app.CreateUser(t, "Bea", "bea@example.com", "long enough", false)
		ctx := context.Background()
		deploys, err := app.Store.CreateGroup(ctx, "deploys", true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := app.Store.CreateGroup(ctx, "ops", false); err != nil {
			t.Fatal(err)
		}
		if resp, _ := app.Client(t).Get(t, "/topics"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Fatalf("visitor: %d to %q, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
		}
		c := app.Client(t)
		c.Login(t, bea.Email, "long enough")
		wakes := userWakes(t, app, bea)
		resp, body := c.Get(t, "/topics")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `action="/topics/deploys/follow"`) || strings.Contains(body, "ops") ||
			!strings.Contains(body, `href="/topics"`) {
			t.Fatalf("GET /topics: %d\n%s", resp.StatusCode, body)
		}

		resp, body = c.PostForm(t, "/topics/deploys/follow", nil)
		wantRedirect(t, resp, body, "/topics", "follow")
		toldAtOnce(t, wakes, "follow")
		if ids := groupsOf(t, app, bea); !slices.Equal(ids, []int64{deploys.ID}) {
			t.Fatalf("bea's groups %v, want deploys", ids)
		}
		if _, body := c.Get(t, "/topics"); !strings.Contains(body, `action="/topics/deploys/leave"`) || strings.Contains(body, `/follow"`) {
			t.Fatalf("after following:\n%s", body)
		}
		// Her settings say which topics she follows.
		if _, body := c.Get(t, "/settings"); !strings.Contains(body, `<ul class="followed-topics"><li>deploys</li></ul>`) {
			t.Errorf("settings after following deploys:\n%s", body)
		}
		last, err := app.Store.LastGroupChange(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/topics/ops/follow", "/topics/nope/follow", "/topics/ops/leave", "/topics/Bad!/follow"} {
			if resp, _ := c.PostForm(t, path, nil); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", path, resp.StatusCode)
			}
		}
		if now, _ := app.Store.LastGroupChange(ctx); now != last || !slices.Equal(groupsOf(t, app, bea), []int64{deploys.ID}) {
			t.Fatal("a refused follow changed something")
		}
		if resp, _ := c.PostFormRaw(t, "/topics/deploys/leave", url.Values{"_csrf": {"forged"}}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("leave without a real CSRF token: %d, want 403", resp.StatusCode)
		}
		resp, body = c.PostForm(t, "/topics/deploys/leave", nil)
		wantRedirect(t, resp, body, "/topics", "leave")
		toldAtOnce(t, wakes, "leave")
		if ids := groupsOf(t, app, bea); len(ids) != 0 {
			t.Fatalf("bea is still in %v", ids)
		}
		if _, body := c.Get(t, "/settings"); strings.Contains(body, "followed-topics") || !strings.Contains(body, "You follow no topics") {
			t.Errorf("settings after leaving deploys still list it")
		}
	})
}
