package controllers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"beacon/app/apptest"
)

type list struct {
	Notifications []payload `json:"notifications"`
	LastID        int64     `json:"last_id"`
}

func getList(t *testing.T, c *apptest.Client, path string) (int, list) {
	t.Helper()
	resp, body := c.Get(t, path)
	var l list
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal([]byte(body), &l); err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, body)
		}
	}
	return resp.StatusCode, l
}

func ids(l list) []int64 {
	var out []int64
	for _, n := range l.Notifications {
		out = append(out, n.ID)
	}
	return out
}

func TestAPICreateAnswers(t *testing.T) {
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	bob := app.CreateUser(t, "Bob", "bob@example.com", "password bob", false)
	bobToken := app.Token(t, bob)

	for _, tc := range []struct {
		name, token string
		body        any
		status      int
		want        string
	}{
		{"no token", "", map[string]string{"title": "x"}, 401, "missing bearer token"},
		{"wrong token", "bcn_nope", map[string]string{"title": "x"}, 401, "invalid bearer token"},
		{"token of a non-admin", bobToken, map[string]string{"title": "x"}, 401, "invalid bearer token"},
		{"not JSON", token, "title=x", 400, "JSON object"},
		{"unknown field", token, map[string]string{"title": "x", "colour": "red"}, 400, "colour"},
		{"invalid fields", token, map[string]string{"title": "", "level": "loud", "recipient": "who@example.com"}, 422, `"level":"must be one of`},
		{"valid", token, map[string]string{"title": "Hello", "recipient": "bob@example.com"}, 201, `"recipient":"bob@example.com"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := postJSON(t, app, tc.token, tc.body)
			if resp.StatusCode != tc.status || !strings.Contains(body, tc.want) {
				t.Fatalf("status %d body %s; want %d containing %q", resp.StatusCode, body, tc.status, tc.want)
			}
			if tc.status == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("401 without WWW-Authenticate: Bearer")
			}
			if tc.status == 422 {
				var e struct{ Errors map[string]string }
				if err := json.Unmarshal([]byte(body), &e); err != nil || e.Errors["title"] == "" || e.Errors["recipient"] == "" {
					t.Fatalf("errors %v (%v)", e.Errors, err)
				}
			}
		})
	}
	if n := countNotifications(t, app); n != 1 {
		t.Fatalf("%d notifications stored, want only the valid one", n)
	}
}

func TestAPIListFollowsCursor(t *testing.T) {
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	var want []int64
	for i := range 5 {
		want = append(want, app.Notify(t, token, map[string]string{"title": fmt.Sprint("n", i)}))
	}
	c := app.Client(t)

	_, l := getList(t, c, "/api/notifications?limit=2")
	if got := ids(l); fmt.Sprint(got) != fmt.Sprint(want[:2]) || l.LastID != want[1] {
		t.Fatalf("first page %v last_id %d", got, l.LastID)
	}
	_, l = getList(t, c, fmt.Sprintf("/api/notifications?after=%d", l.LastID))
	if got := ids(l); fmt.Sprint(got) != fmt.Sprint(want[2:]) || l.LastID != want[4] {
		t.Fatalf("second page %v last_id %d", got, l.LastID)
	}
	_, l = getList(t, c, fmt.Sprintf("/api/notifications?after=%d", l.LastID))
	if len(l.Notifications) != 0 || l.LastID != want[4] {
		t.Fatalf("past the end: %v last_id %d", ids(l), l.LastID)
	}
	for _, bad := range []string{"after=x", "after=-1", "limit=0", "limit=501", "limit=1.5"} {
		if status, _ := getList(t, c, "/api/notifications?"+bad); status != http.StatusBadRequest {
			t.Errorf("?%s: %d, want 400", bad, status)
		}
	}
}

func TestPollAnswersAtOnceOnPostAndOnTimeout(t *testing.T) {
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	c := app.Client(t)
	first := app.Notify(t, token, map[string]string{"title": "first"})

	t.Run("at once when newer ones exist", func(t *testing.T) {
		start := time.Now()
		_, l := getList(t, c, "/api/notifications/poll?after=0&timeout=30")
		if fmt.Sprint(ids(l)) != fmt.Sprint([]int64{first}) || time.Since(start) > 5*time.Second {
			t.Fatalf("got %v after %v", ids(l), time.Since(start))
		}
	})
	t.Run("when one is posted", func(t *testing.T) {
		got := make(chan list, 1)
		go func() {
			_, l := getList(t, c, fmt.Sprintf("/api/notifications/poll?after=%d&timeout=30", first))
			got <- l
		}()
		// The poll may subscribe before or after this post: either way it answers with it.
		waitFor(t, func() bool { return app.Subscribers() > 0 })
		second := app.Notify(t, token, map[string]string{"title": "second"})
		select {
		case l := <-got:
			if fmt.Sprint(ids(l)) != fmt.Sprint([]int64{second}) || l.LastID != second {
				t.Fatalf("got %v last_id %d, want [%d]", ids(l), l.LastID, second)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("poll did not answer the post")
		}
	})
	t.Run("empty on timeout", func(t *testing.T) {
		start := time.Now()
		status, l := getList(t, c, "/api/notifications/poll?after=999&timeout=1")
		if status != http.StatusOK || len(l.Notifications) != 0 || l.LastID != 999 || time.Since(start) < time.Second {
			t.Fatalf("status %d %v after %v", status, ids(l), time.Since(start))
		}
	})
	t.Run("bad parameters are 400", func(t *testing.T) {
		for _, bad := range []string{"timeout=56", "timeout=-1", "timeout=abc", "after=one"} {
			if status, _ := getList(t, c, "/api/notifications/poll?"+bad); status != http.StatusBadRequest {
				t.Errorf("?%s: %d, want 400", bad, status)
			}
		}
	})
}

// waitFor polls cond until it holds, failing the test after five seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Text a database cannot store (NUL characters, bytes that are not UTF-8)
// is refused as invalid input on forms and the API, never a 500. (JSON
// cannot carry invalid UTF-8: Go's decoder replaces it.)
func TestTextThatCannotBeStoredIsRefused(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app, _, token := apptest.WithAdmin(t, opts)
		for _, body := range []map[string]string{
			{"title": "nul\x00here"},
			{"title": "ok", "recipient": "a\x00@example.com"},
		} {
			if resp, out := postJSON(t, app, token, body); resp.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("API %q: %d %s", body, resp.StatusCode, out)
			}
		}
		c := app.Client(t)
		resp, _ := c.PostForm(t, "/signup", url.Values{"name": {"Nul\x00"}, "email": {"n@example.com"}, "password": {"long enough"}})
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("signup with NUL in the name: %d", resp.StatusCode)
		}
		for _, email := range []string{"x\xff@example.com", "nul\x00@example.com", strings.Repeat("e", 20000) + "@example.com"} {
			resp, _ = c.PostForm(t, "/login", url.Values{"email": {email}, "password": {"whatever"}})
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Errorf("login with email %.20q…: %d", email, resp.StatusCode)
			}
		}
		if n := countNotifications(t, app); n != 0 {
			t.Errorf("%d notifications stored", n)
		}
	})
}
