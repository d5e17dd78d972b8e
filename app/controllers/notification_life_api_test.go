package controllers_test

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"beacon/app/apptest"
	"beacon/app/models"
)

// apiCall calls the notifications API with a raw body, as any client
// might, and returns the status and body.
func apiCall(t *testing.T, app *apptest.App, method, path, token, contentType, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, app.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := app.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// snapshot is every stored notification as the admin list reads it, by id:
// what a refused request must leave as it was.
func snapshot(t *testing.T, app *apptest.App) map[int64]models.Notification {
	t.Helper()
	ns, err := app.Store.LatestNotifications(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[int64]models.Notification, len(ns))
	for _, n := range ns {
		n.Recipient, n.ReadBy = nil, 0
		out[n.ID] = n
	}
	return out
}

func stored(t *testing.T, app *apptest.App, id int64) models.Notification {
	t.Helper()
	n, ok := snapshot(t, app)[id]
	if !ok {
		t.Fatalf("notification %d is not stored", id)
	}
	return n
}

func unchanged(t *testing.T, app *apptest.App, before map[int64]models.Notification) {
	t.Helper()
	after := snapshot(t, app)
	if describe(after) != describe(before) {
		t.Fatalf("stored notifications changed:\nbefore %s\nafter  %s", describe(before), describe(after))
	}
}

// describe spells out the stored state of ns, pointers followed.
func describe(ns map[int64]models.Notification) string {
	var b strings.Builder
	for _, id := range slices.Sorted(maps.Keys(ns)) {
		n := ns[id]
		fmt.Fprintf(&b, "[%d pos %d first %d key %s %q %q %s for %s sched %v at %s withdrawn %s] ", n.ID, n.Position, n.FirstPosition,
			deref(n.Key), n.Title, n.Body, n.Level, deref(n.RecipientID), n.Scheduled, deref(n.DeliverAt), deref(n.WithdrawnAt))
	}
	return b.String()
}

func deref[T any](p *T) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

func TestAPIKeyReplacesALiveNotification(t *testing.T) {
	forEachDatabase(t, testAPIKeyReplacesALiveNotification)
}

func testAPIKeyReplacesALiveNotification(t *testing.T, opts apptest.Options) {
	app, _, token := apptest.WithAdmin(t, opts)
	app.CreateUser(t, "Bob", "bob@example.com", "password bob", false)

	resp, body := postJSON(t, app, token, map[string]string{"title": "Deploy started 0%", "key": "deploy:v1.2"})
	var first payload
	if resp.StatusCode != http.StatusCreated || jsonUnmarshal(body, &first) != nil || first.ID == 0 {
		t.Fatalf("first post: %d %s", resp.StatusCode, body)
	}
	resp, body = postJSON(t, app, token, map[string]string{"title": "Deploy finished 100%", "level": "success", "key": "deploy:v1.2"})
	var second payload
	if resp.StatusCode != http.StatusOK || jsonUnmarshal(body, &second) != nil {
		t.Fatalf("replacing post: %d %s, want 200", resp.StatusCode, body)
	}
	if second.ID != first.ID || second.Title != "Deploy finished 100%" || second.Level != "success" || !strings.Contains(second.HTML, "Deploy finished 100%") {
		t.Fatalf("replacement %+v, want id %d with the new content", second, first.ID)
	}
	if n := stored(t, app, first.ID); n.Title != "Deploy finished 100%" || n.Position <= first.ID {
		t.Fatalf("stored %+v, want the new title at a new position", n)
	}
	// The same key for someone else is another notification.
	resp, body = postJSON(t, app, token, map[string]string{"title": "Your deploy", "key": "deploy:v1.2", "recipient": "bob@example.com"})
	var other payload
	if resp.StatusCode != http.StatusCreated || jsonUnmarshal(body, &other) != nil || other.ID == first.ID {
		t.Fatalf("same key, other recipient: %d %s, want 201 with a new id", resp.StatusCode, body)
	}
	// A withdrawn one frees its key.
	if resp, body := apiCall(t, app, http.MethodDelete, "/api/notifications/"+itoa(first.ID), token, "", ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("withdraw: %d %s", resp.StatusCode, body)
	}
	resp, body = postJSON(t, app, token, map[string]string{"title": "Deploy started again", "key": "deploy:v1.2"})
	var third payload
	if resp.StatusCode != http.StatusCreated || jsonUnmarshal(body, &third) != nil || third.ID == first.ID {
		t.Fatalf("key of a withdrawn one: %d %s, want 201 with a new id", resp.StatusCode, body)
	}

	before := snapshot(t, app)
	for _, key := range []string{"has space", "slash/y", "naïve", strings.Repeat("k", 101), "semi;colon"} {
		resp, body := postJSON(t, app, token, map[string]string{"title": "x", "key": key})
		var e struct{ Errors map[string]string }
		if resp.StatusCode != http.StatusUnprocessableEntity || jsonUnmarshal(body, &e) != nil || e.Errors["key"] == "" {
			t.Errorf("key %.20q: %d %s, want 422 naming key", key, resp.StatusCode, body)
		}
	}
	unchanged(t, app, before)
	// Every character the contract allows, at the longest.
	long := strings.Repeat("aZ09._:-", 12) + "abcd"
	if resp, body := postJSON(t, app, token, map[string]string{"title": "x", "key": long}); resp.StatusCode != http.StatusCreated {
		t.Fatalf("100-character key: %d %s", resp.StatusCode, body)
	}
}

func TestAPIDeliverAt(t *testing.T) {
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	visitor := app.Client(t)
	visible := func() []int64 {
		_, l := getList(t, visitor, "/api/notifications")
		return ids(l)
	}

	before := snapshot(t, app)
	for _, at := range []string{"tomorrow", "2030-13-01T00:00:00Z", "1700000000", time.Now().AddDate(1, 0, 2).UTC().Format(time.RFC3339)} {
		resp, body := postJSON(t, app, token, map[string]string{"title": "x", "deliver_at": at})
		var e struct{ Errors map[string]string }
		if resp.StatusCode != http.StatusUnprocessableEntity || jsonUnmarshal(body, &e) != nil || e.Errors["deliver_at"] == "" {
			t.Errorf("deliver_at %q: %d %s, want 422 naming deliver_at", at, resp.StatusCode, body)
		}
	}
	unchanged(t, app, before)

	past := app.Notify(t, token, map[string]string{"title": "late", "deliver_at": "2001-02-03T04:05:06+02:00"})
	if got := visible(); fmt.Sprint(got) != fmt.Sprint([]int64{past}) {
		t.Fatalf("after a post due in the past, visitors see %v, want [%d]", got, past)
	}
	if n := stored(t, app, past); n.Scheduled || n.DeliverAt == nil || !n.DeliverAt.Equal(time.Date(2001, 2, 3, 2, 5, 6, 0, time.UTC)) {
		t.Fatalf("stored %+v, want delivered, due 02:05:06 UTC", n)
	}

	due := time.Now().Add(2 * time.Hour).Truncate(time.Second)
	later := app.Notify(t, token, map[string]string{"title": "later", "key": "reminder", "deliver_at": due.Format(time.RFC3339)})
	if n := stored(t, app, later); !n.Scheduled || !n.DeliverAt.Equal(due) {
		t.Fatalf("stored %+v, want scheduled for %v", n, due)
	}
	if got := visible(); fmt.Sprint(got) != fmt.Sprint([]int64{past}) {
		t.Fatalf("visitors see %v before it is due", got)
	}
	// Its key may reschedule it while it waits...
	resp, body := postJSON(t, app, token, map[string]string{"title": "later still", "key": "reminder", "deliver_at": due.Add(time.Hour).Format(time.RFC3339)})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("rescheduling by key: %d %s", resp.StatusCode, body)
	}
	// ...but not take a delivered one back.
	app.Notify(t, token, map[string]string{"title": "out", "key": "sent"})
	before = snapshot(t, app)
	resp, body = postJSON(t, app, token, map[string]string{"title": "back", "key": "sent", "deliver_at": due.Format(time.RFC3339)})
	var e struct{ Errors map[string]string }
	if resp.StatusCode != http.StatusUnprocessableEntity || jsonUnmarshal(body, &e) != nil || e.Errors["deliver_at"] == "" {
		t.Fatalf("scheduling a delivered key again: %d %s, want 422 naming deliver_at", resp.StatusCode, body)
	}
	unchanged(t, app, before)
}

func TestAPIPatchEditsInPlace(t *testing.T) {
	forEachDatabase(t, testAPIPatchEditsInPlace)
}

func testAPIPatchEditsInPlace(t *testing.T, opts apptest.Options) {
	app, _, token := apptest.WithAdmin(t, opts)
	bob := app.CreateUser(t, "Bob", "bob@example.com", "password bob", false)
	bobToken := app.Token(t, bob)
	id := app.Notify(t, token, map[string]string{"title": "Maintenance at noon", "body": "an hour", "recipient": "bob@example.com"})
	path := "/api/notifications/" + itoa(id)

	resp, body := apiCall(t, app, http.MethodPatch, path, token, "application/json; charset=utf-8", `{"title":" Maintenance at one ","level":"warning"}`)
	var p payload
	if resp.StatusCode != http.StatusOK || jsonUnmarshal(body, &p) != nil {
		t.Fatalf("PATCH: %d %s", resp.StatusCode, body)
	}
	if p.ID != id || p.Title != "Maintenance at one" || p.Body != "an hour" || p.Level != "warning" ||
		p.Recipient == nil || *p.Recipient != "bob@example.com" || !strings.Contains(p.HTML, "Maintenance at one") {
		t.Fatalf("answer %+v, want the new state with body and recipient kept", p)
	}
	edited := stored(t, app, id)
	if edited.Position <= id || edited.Title != "Maintenance at one" {
		t.Fatalf("stored %+v, want the edit at a new position", edited)
	}
	// Only a scheduled one can be rescheduled.
	resp, body = apiCall(t, app, http.MethodPatch, path, token, "application/json", `{"deliver_at":"2001-01-01T00:00:00Z"}`)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `"deliver_at"`) {
		t.Fatalf("deliver_at on a delivered one: %d %s, want 422", resp.StatusCode, body)
	}
	// An empty patch is the state as it stands.
	resp, body = apiCall(t, app, http.MethodPatch, path, token, "application/json", `{}`)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"title":"Maintenance at one"`) {
		t.Fatalf("empty patch: %d %s", resp.StatusCode, body)
	}

	withdrawn := app.Notify(t, token, map[string]string{"title": "gone"})
	if resp, _ := apiCall(t, app, http.MethodDelete, "/api/notifications/"+itoa(withdrawn), token, "", ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("withdraw: %d", resp.StatusCode)
	}

	before := snapshot(t, app)
	for _, tc := range []struct {
		name, path, token, contentType, body string
		status                               int
		want                                 string
	}{
		{"no token", path, "", "application/json", `{"title":"x"}`, 401, "missing bearer token"},
		{"wrong token", path, "bcn_nope", "application/json", `{"title":"x"}`, 401, "invalid bearer token"},
		{"token of a non-admin", path, bobToken, "application/json", `{"title":"x"}`, 401, "invalid bearer token"},
		{"form content type", path, token, "application/x-www-form-urlencoded", `title=x`, 415, "application/json"},
		{"text content type", path, token, "text/plain", `{"title":"x"}`, 415, "application/json"},
		{"no content type", path, token, "", `{"title":"x"}`, 415, "application/json"},
		{"not JSON", path, token, "application/json", `title=x`, 400, "JSON object"},
		{"null", path, token, "application/json", `null`, 400, "JSON object"},
		{"an array", path, token, "application/json", `[{"title":"x"}]`, 400, "JSON object"},
		{"two objects", path, token, "application/json", `{"title":"x"} {"title":"y"}`, 400, "nothing after it"},
		{"trailing text", path, token, "application/json", `{"title":"x"} trailing`, 400, "nothing after it"},
		{"unknown field", path, token, "application/json", `{"title":"x","colour":"red"}`, 400, "colour"},
		{"an unknown recipient", path, token, "application/json", `{"recipient":"nobody@example.com"}`, 422, `"recipient":"no user has this email"`},
		{"an unknown group", path, token, "application/json", `{"to":["group:nope"]}`, 422, `group:nope`},
		{"to and recipient", path, token, "application/json", `{"to":["ada@example.com"],"recipient":"ada@example.com"}`, 422, `"to":"give recipient or to, not both"`},
		{"to not a list", path, token, "application/json", `{"to":"ada@example.com"}`, 400, "to"},
		{"a number for the title", path, token, "application/json", `{"title":5}`, 400, "title"},
		{"blank title", path, token, "application/json", `{"title":"  "}`, 422, `"title":"can't be blank"`},
		{"long body", path, token, "application/json", `{"body":"` + strings.Repeat("b", 5001) + `"}`, 422, `"body":"is too long`},
		{"unknown level", path, token, "application/json", `{"level":"loud"}`, 422, `"level":"must be one of`},
		{"NUL in the title", path, token, "application/json", `{"title":"a\u0000b"}`, 422, `"title"`},
		{"unknown id", "/api/notifications/99999", token, "application/json", `{"title":"x"}`, 404, "no such notification"},
		{"id that is not a number", "/api/notifications/abc", token, "application/json", `{"title":"x"}`, 404, "no such notification"},
		{"negative id", "/api/notifications/-1", token, "application/json", `{"title":"x"}`, 404, "no such notification"},
		{"withdrawn", "/api/notifications/" + itoa(withdrawn), token, "application/json", `{"title":"x"}`, 404, "no such notification"},
		{"withdrawn, empty patch", "/api/notifications/" + itoa(withdrawn), token, "application/json", `{}`, 404, "no such notification"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := apiCall(t, app, http.MethodPatch, tc.path, tc.token, tc.contentType, tc.body)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("%d %s %s; want %d JSON containing %q", resp.StatusCode, resp.Header.Get("Content-Type"), body, tc.status, tc.want)
			}
			if tc.status == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("401 without WWW-Authenticate: Bearer")
			}
		})
	}
	unchanged(t, app, before)

	// An admin's session is no bearer token: the API does not take it.
	admin := app.Client(t)
	admin.Login(t, apptest.AdminEmail, apptest.AdminPassword)
	req, _ := http.NewRequest(http.MethodPatch, app.URL+path, strings.NewReader(`{"title":"by cookie"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", admin.CSRF(t))
	resp, err := admin.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("PATCH with a session: %d, want 401", resp.StatusCode)
	}
	unchanged(t, app, before)
}

func TestAPIDeleteWithdraws(t *testing.T) {
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	bob := app.CreateUser(t, "Bob", "bob@example.com", "password bob", false)
	bobToken := app.Token(t, bob)
	keep := app.Notify(t, token, map[string]string{"title": "keep me"})
	gone := app.Notify(t, token, map[string]string{"title": "take me back"})
	path := "/api/notifications/" + itoa(gone)

	before := snapshot(t, app)
	for _, tc := range []struct {
		name, path, token string
		status            int
	}{
		{"no token", path, "", 401},
		{"token of a non-admin", path, bobToken, 401},
		{"unknown id", "/api/notifications/99999", token, 404},
		{"id that is not a number", "/api/notifications/x1", token, 404},
	} {
		if resp, body := apiCall(t, app, http.MethodDelete, tc.path, tc.token, "", ""); resp.StatusCode != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, resp.StatusCode, body, tc.status)
		}
	}
	unchanged(t, app, before)

	resp, body := apiCall(t, app, http.MethodDelete, path, token, "", "")
	if resp.StatusCode != http.StatusNoContent || body != "" {
		t.Fatalf("DELETE: %d %q, want 204 and no body", resp.StatusCode, body)
	}
	if n := stored(t, app, gone); !n.Withdrawn() || n.Position <= keep {
		t.Fatalf("stored %+v, want withdrawn at a new position", n)
	}
	if resp, body := apiCall(t, app, http.MethodDelete, path, token, "", ""); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "no such notification") {
		t.Fatalf("DELETE again: %d %s, want 404", resp.StatusCode, body)
	}
	c := app.Client(t)
	if _, l := getList(t, c, "/api/notifications"); fmt.Sprint(ids(l)) != fmt.Sprint([]int64{keep}) {
		t.Fatalf("list after withdrawal: %v, want [%d]", ids(l), keep)
	}
	if _, page := c.Get(t, "/"); strings.Contains(page, "take me back") || !strings.Contains(page, "keep me") {
		t.Fatalf("the feed still shows the withdrawn one:\n%s", page)
	}
}

// The feed's script resumes from the newest position its viewer may see,
// an edit's included and someone else's left out; "mark all as read"
// still stops at the newest id shown.
func TestFeedResumesFromTheViewersNewestPosition(t *testing.T) {
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	app.CreateUser(t, "Bob", "bob@example.com", "password bob", false)
	everyone := app.Notify(t, token, map[string]string{"title": "for everyone"})
	bobs := app.Notify(t, token, map[string]string{"title": "for Bob", "recipient": "bob@example.com"})
	patch := func(id int64) {
		if resp, body := apiCall(t, app, http.MethodPatch, "/api/notifications/"+itoa(id), token, "application/json", `{"body":"edited"}`); resp.StatusCode != http.StatusOK {
			t.Fatalf("PATCH %d: %d %s", id, resp.StatusCode, body)
		}
	}
	patch(everyone)
	patch(bobs)
	edited, bobsEdited := stored(t, app, everyone).Position, stored(t, app, bobs).Position

	visitor := app.Client(t)
	_, page := visitor.Get(t, "/")
	if want := `data-last-id="` + itoa(everyone) + `" data-position="` + itoa(edited) + `"`; !strings.Contains(page, want) {
		t.Fatalf("visitor's feed lacks %s:\n%s", want, page)
	}
	bob := app.Client(t)
	bob.Login(t, "bob@example.com", "password bob")
	_, page = bob.Get(t, "/")
	if want := `data-last-id="` + itoa(bobs) + `" data-position="` + itoa(bobsEdited) + `"`; !strings.Contains(page, want) ||
		!strings.Contains(page, `name="through" value="`+itoa(bobs)+`"`) {
		t.Fatalf("Bob's feed lacks %s and through=%d:\n%s", want, bobs, page)
	}
}
