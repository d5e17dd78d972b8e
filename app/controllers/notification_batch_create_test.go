package controllers_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"beacon/app/apptest"
)

// postBatch posts body (JSON already) to the batch endpoint.
func postBatch(t *testing.T, app *apptest.App, token, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, app.URL+"/api/notifications/batch", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := app.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// items is a batch body of n notifications titled "title 0" … .
func items(n int) string {
	var b bytes.Buffer
	b.WriteString(`{"notifications":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"title":"title %d","level":"info"}`, i)
	}
	b.WriteString(`]}`)
	return b.String()
}

// A batch is posted whole: 201 with each notification in its order, at
// positions in that order, which a stream receives in that order; a key
// replaces as in the single POST.
func TestAPIBatchCreate(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app, _, token := apptest.WithAdmin(t, opts)
		app.CreateUser(t, "Bob", "bob@example.com", "password bob", false)
		old := app.Notify(t, token, map[string]string{"title": "deploying", "key": "deploy"})
		stream := app.Client(t).OpenStream(t, itoa(old))
		code, body := postBatch(t, app, token, "application/json", `{"notifications":[
			{"title":"one"},
			{"title":"two","body":"for Bob","level":"warning","recipient":"bob@example.com"},
			{"title":"deployed","level":"success","key":"deploy"},
			{"title":"later","deliver_at":"`+time.Now().Add(time.Hour).UTC().Format(time.RFC3339)+`"},
			{"title":"four"}]}`)
		if code != http.StatusCreated {
			t.Fatalf("batch: %d %s", code, body)
		}
		var got struct{ Notifications []payload }
		if err := json.Unmarshal([]byte(body), &got); err != nil || len(got.Notifications) != 5 {
			t.Fatalf("batch answered %s (%v)", body, err)
		}
		ns := got.Notifications
		want := []string{"one", "two", "deployed", "later", "four"}
		for i, n := range ns {
			if n.Title != want[i] || n.HTML == "" {
				t.Fatalf("item %d: %+v, want %q", i, n, want[i])
			}
		}
		if ns[1].Recipient == nil || *ns[1].Recipient != "bob@example.com" || ns[2].ID != old || ns[0].ID <= old || ns[4].ID <= ns[3].ID {
			t.Fatalf("batch answered %s", body)
		}
		// The visitor's stream: the broadcasts, live, in the batch's order.
		var seen []string
		for len(seen) < 3 {
			ev := stream.NextEvent(t, 10*time.Second)
			var p payload
			if err := json.Unmarshal([]byte(ev.Data), &p); err == nil && (ev.Event == "notification" || ev.Event == "update") {
				seen = append(seen, p.Title)
			}
		}
		if strings.Join(seen, ",") != "one,deployed,four" {
			t.Fatalf("the stream received %v", seen)
		}
	})
}

// What a batch refuses, it refuses whole, naming the item (from 0) and its
// field; nothing of it is stored.
func TestAPIBatchCreateRefusals(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app, _, token := apptest.WithAdmin(t, opts)
		app.Notify(t, token, map[string]string{"title": "delivered", "key": "deploy"})
		soon := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		for _, tc := range []struct {
			name, token, contentType, body string
			status                         int
			want                           string
		}{
			{"no token", "", "application/json", items(1), 401, "missing bearer token"},
			{"not JSON", token, "text/plain", items(1), 415, "application/json"},
			{"not an object", token, "application/json", `[{"title":"x"}]`, 400, "JSON object"},
			{"an unknown field", token, "application/json", `{"notifications":[],"more":1}`, 400, "more"},
			{"no list", token, "application/json", `{}`, 422, `"notifications":"must hold 1 to 1000 notifications, not 0"`},
			{"an empty list", token, "application/json", `{"notifications":[]}`, 422, `"notifications":"must hold 1 to 1000`},
			{"1,001 items", token, "application/json", items(1001), 422, `"notifications":"must hold 1 to 1000 notifications, not 1001"`},
			{"an item that is not an object", token, "application/json",
				`{"notifications":[{"title":"a"},"b",null,[],{"title":"e"}]}`, 422, `{"errors":{"1":"must be a JSON object","2":"must be a JSON object","3":"must be a JSON object"}}`},
			{"an item with an unknown field", token, "application/json",
				`{"notifications":[{"title":"a"},{"title":"b","colour":"red"}]}`, 422, `"1":"must be a JSON object of the documented fields`},
			{"one bad item among good ones", token, "application/json",
				`{"notifications":[{"title":"a"},{"title":"b"},{"title":"c"},{"title":"","level":"loud"},{"title":"e","recipient":"who@example.com"}]}`, 422,
				`{"errors":{"3.level":"must be one of info, success, warning, error","3.title":"can't be blank","4.recipient":"no user has this email"}}`},
			{"scheduling a delivered one again", token, "application/json",
				`{"notifications":[{"title":"a"},{"title":"b","key":"deploy","deliver_at":"` + soon + `"}]}`, 422, `{"errors":{"1.deliver_at":"the notification with this key was already delivered`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before, err := app.Store.LastPosition(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				code, body := postBatch(t, app, tc.token, tc.contentType, tc.body)
				if code != tc.status || !strings.Contains(body, tc.want) {
					t.Fatalf("%d %s, want %d with %s", code, body, tc.status, tc.want)
				}
				if after, err := app.Store.LastPosition(t.Context()); err != nil || after != before {
					t.Fatalf("refused, yet the last position moved from %d to %d (%v)", before, after, err)
				}
			})
		}
	})
}

// 1,000 items, the most a batch carries, are one call.
func TestAPIBatchCreateTakesAThousand(t *testing.T) {
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	code, body := postBatch(t, app, token, "application/json", items(1000))
	var got struct{ Notifications []payload }
	if code != http.StatusCreated || json.Unmarshal([]byte(body), &got) != nil || len(got.Notifications) != 1000 ||
		got.Notifications[999].Title != "title 999" {
		t.Fatalf("%d %.300s", code, body)
	}
}

// The API's writes answer uncompressed, whatever the client accepts: the
// compression of a post's answer cost more than the post. Its reads stay
// compressed.
func TestAPIWritesAreNotCompressed(t *testing.T) {
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	for _, path := range []string{"/api/notifications", "/api/notifications/batch"} {
		body := `{"title":"t"}`
		if strings.HasSuffix(path, "batch") {
			body = items(50)
		}
		req, _ := http.NewRequest(http.MethodPost, app.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || resp.Header.Get("Content-Encoding") != "" {
			t.Fatalf("POST %s: %d, Content-Encoding %q", path, resp.StatusCode, resp.Header.Get("Content-Encoding"))
		}
	}
	req, _ := http.NewRequest(http.MethodGet, app.URL+"/api/notifications", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("GET /api/notifications: Content-Encoding %q, want gzip", resp.Header.Get("Content-Encoding"))
	}
}
