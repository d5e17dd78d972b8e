package controllers_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"beacon/app/apptest"
)

func countNotifications(t *testing.T, app *apptest.App) int {
	t.Helper()
	ns, err := app.Store.LatestNotifications(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(ns)
}

func TestAdminPostsNotificationThroughForm(t *testing.T) {
	app, _, _ := apptest.WithAdmin(t, apptest.Options{})
	app.CreateUser(t, "Bob", "bob@example.com", "password bob", false)
	admin := app.Client(t)
	admin.Login(t, "ada@example.com", "correct horse")

	resp, body := admin.Get(t, "/admin/notifications/new")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="_csrf"`) {
		t.Fatalf("new form: %d\n%s", resp.StatusCode, body)
	}

	valid := url.Values{"title": {"Maintenance"}, "body": {"Tonight 22:00"}, "level": {"warning"}, "recipient": {"BOB@example.com"}}
	t.Run("without CSRF token is 403 and stores nothing", func(t *testing.T) {
		resp, _ := admin.PostFormRaw(t, "/admin/notifications", valid)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d, want 403", resp.StatusCode)
		}
		bad := url.Values{"_csrf": {"forged"}}
		for k, v := range valid {
			bad[k] = v
		}
		if resp, _ := admin.PostFormRaw(t, "/admin/notifications", bad); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("wrong token: status %d, want 403", resp.StatusCode)
		}
		if n := countNotifications(t, app); n != 0 {
			t.Fatalf("%d notifications stored", n)
		}
	})

	invalid := []struct {
		name, field, want string
		form              url.Values
	}{
		{"blank title", "title", "can&#39;t be blank", url.Values{"title": {"  "}, "level": {"info"}}},
		{"long title", "title", "too long", url.Values{"title": {strings.Repeat("t", 201)}, "level": {"info"}}},
		{"long body", "body", "too long", url.Values{"title": {"ok"}, "body": {strings.Repeat("b", 5001)}, "level": {"info"}}},
		{"unknown level", "level", "must be one of", url.Values{"title": {"ok"}, "level": {"panic"}}},
		{"unknown recipient", "recipient", "no user has this email", url.Values{"title": {"ok"}, "level": {"info"}, "recipient": {"nobody@example.com"}}},
	}
	for _, tc := range invalid {
		t.Run(tc.name+" is 422 with the form", func(t *testing.T) {
			resp, body := admin.PostForm(t, "/admin/notifications", tc.form)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", resp.StatusCode)
			}
			if !strings.Contains(body, tc.want) || !strings.Contains(body, `<form method="post" action="/admin/notifications"`) {
				t.Fatalf("form does not say %q:\n%s", tc.want, body)
			}
			if n := countNotifications(t, app); n != 0 {
				t.Fatalf("%d notifications stored", n)
			}
		})
	}

	t.Run("valid is 303 to the list", func(t *testing.T) {
		resp, _ := admin.PostForm(t, "/admin/notifications", valid)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/notifications" {
			t.Fatalf("status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, body := admin.Get(t, "/admin/notifications")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Maintenance") || !strings.Contains(body, "bob@example.com") {
			t.Fatalf("list: %d\n%s", resp.StatusCode, body)
		}
	})
}

func TestAdminPagesNeedAnAdmin(t *testing.T) {
	app, _, _ := apptest.WithAdmin(t, apptest.Options{})
	app.CreateUser(t, "Bob", "bob@example.com", "password bob", false)

	visitor := app.Client(t)
	for _, path := range []string{"/admin/notifications", "/admin/notifications/new"} {
		resp, _ := visitor.Get(t, path)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Errorf("visitor GET %s: %d %q, want 303 /login", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	bob := app.Client(t)
	bob.Login(t, "bob@example.com", "password bob")
	if resp, _ := bob.Get(t, "/admin/notifications/new"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("non-admin GET: %d, want 403", resp.StatusCode)
	}
	resp, _ := bob.PostForm(t, "/admin/notifications", url.Values{"title": {"x"}, "level": {"info"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("non-admin POST: %d, want 403", resp.StatusCode)
	}
	if n := countNotifications(t, app); n != 0 {
		t.Fatalf("%d notifications stored", n)
	}
}

func TestLoginRejectsWrongPassword(t *testing.T) {
	app, _, _ := apptest.WithAdmin(t, apptest.Options{})
	c := app.Client(t)
	resp, body := c.PostForm(t, "/login", url.Values{"email": {"ada@example.com"}, "password": {"wrong"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Invalid email or password") {
		t.Fatalf("status %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := c.Get(t, "/admin/notifications"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after failed login, admin page: %d, want 303", resp.StatusCode)
	}
}

// A browser's Sec-Fetch-Site header does not stand in for the token.
func TestSameOriginPostWithoutTokenIsRefused(t *testing.T) {
	app, _, _ := apptest.WithAdmin(t, apptest.Options{})
	admin := app.Client(t)
	admin.Login(t, "ada@example.com", "correct horse")
	req, _ := http.NewRequest(http.MethodPost, app.URL+"/admin/notifications",
		strings.NewReader(url.Values{"title": {"x"}, "level": {"info"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := admin.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d, want 403", resp.StatusCode)
	}
	if n := countNotifications(t, app); n != 0 {
		t.Fatalf("%d stored", n)
	}
	// And the form a browser gets carries a real token, not a placeholder.
	req, _ = http.NewRequest(http.MethodGet, app.URL+"/admin/notifications/new", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err = admin.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	token := apptest.FormCSRF(string(body))
	resp, _ = admin.PostFormRaw(t, "/admin/notifications", url.Values{"_csrf": {token}, "title": {"x"}, "level": {"info"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the form's own token %q: %d, want 303\n%s", token, resp.StatusCode, body)
	}
}
