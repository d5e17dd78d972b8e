package controllers_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"beacon/app/apptest"
)

// members is an event's data as its ordered member names and their values.
func members(t *testing.T, data string) ([]string, map[string]json.RawMessage) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(data), &m); err != nil {
		t.Fatalf("data %q: %v", data, err)
	}
	dec := json.NewDecoder(strings.NewReader(data))
	var keys []string
	_, _ = dec.Token()
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		_ = dec.Decode(&skip)
	}
	return keys, m
}

// nextOf returns the next event of kind on s, skipping unread counts.
func nextOf(t *testing.T, s *apptest.Stream, kind string) apptest.Event {
	t.Helper()
	ev := s.NextEvent(t, wait)
	for ev.Event == "unread" {
		ev = s.NextEvent(t, wait)
	}
	if ev.Event != kind {
		t.Fatalf("got %s event %q, want %s", ev.Event, ev.Data, kind)
	}
	return ev
}

// ?fields=html sends {"id","html"} alone, ?fields=json the JSON without
// html, no parameter every field as before; live, in a replay, for an
// update; a withdrawal is the same to all.
func TestStreamSendsTheFieldsAskedFor(t *testing.T) {
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	l := life{t, app}
	c := app.Client(t)
	openFields := func(fields, last string) *apptest.Stream {
		path := "/notifications/stream"
		if fields != "" {
			path += "?fields=" + fields
		}
		s := c.OpenStreamURL(t, path, last)
		if s.Resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", path, s.Resp.StatusCode)
		}
		if first := s.NextEvent(t, wait); first.Retry <= 0 {
			t.Fatalf("%s: first message %+v, want a retry", path, first)
		}
		return s
	}
	check := func(what string, full, html, plain apptest.Event) {
		t.Helper()
		if full.ID != html.ID || full.ID != plain.ID || full.Event != html.Event || full.Event != plain.Event {
			t.Fatalf("%s: events differ: %+v %+v %+v", what, full, html, plain)
		}
		fk, fm := members(t, full.Data)
		if want := []string{"id", "title", "body", "level", "url", "recipient", "created_at", "html", "position", "updated_at", "key"}; !slices.Equal(fk, want) {
			t.Fatalf("%s: every field: %v, want %v", what, fk, want)
		}
		hk, hm := members(t, html.Data)
		var fullHTML, htmlHTML string
		_ = json.Unmarshal(fm["html"], &fullHTML)
		_ = json.Unmarshal(hm["html"], &htmlHTML)
		if !slices.Equal(hk, []string{"id", "html"}) || string(hm["id"]) != string(fm["id"]) || htmlHTML != fullHTML {
			t.Fatalf("%s: fields=html sent %s, want the id and html of %s", what, html.Data, full.Data)
		}
		if strings.Contains(html.Data, `\u003c`) || !strings.Contains(html.Data, `<li class=\"notification`) {
			t.Fatalf("%s: fields=html escapes its markup for HTML: %s", what, html.Data)
		}
		if want := strings.Replace(full.Data, `,"html":`+string(fm["html"]), "", 1); plain.Data != want {
			t.Fatalf("%s: fields=json sent\n%s\nwant every field but html:\n%s", what, plain.Data, want)
		}
	}

	before := app.Notify(t, token, map[string]string{"title": "before"})
	missed := app.Notify(t, token, map[string]string{"title": `<b>missed</b> & "quoted"`, "body": "a body"})
	from := strconv.FormatInt(before, 10)
	full, html, plain := openFields("", from), openFields("html", from), openFields("json", from)
	check("replay", nextOf(t, full, "notification"), nextOf(t, html, "notification"), nextOf(t, plain, "notification"))

	id := app.Notify(t, token, map[string]string{"title": "live", "level": "warning"})
	check("live", nextOf(t, full, "notification"), nextOf(t, html, "notification"), nextOf(t, plain, "notification"))
	l.edit(id, "live, edited")
	check("update", nextOf(t, full, "update"), nextOf(t, html, "update"), nextOf(t, plain, "update"))

	l.withdraw(missed)
	w := nextOf(t, full, "withdraw")
	for _, s := range []*apptest.Stream{html, plain} {
		if got := nextOf(t, s, "withdraw"); got != w {
			t.Fatalf("withdraw %+v, want %+v as without fields", got, w)
		}
	}
}

// A fields value the server does not know is a programming error: 400 with
// what it accepts, rather than a stream that silently sends everything.
func TestStreamRefusesUnknownFields(t *testing.T) {
	app := apptest.New(t, apptest.Options{})
	c := app.Client(t)
	for _, v := range []string{"title", "HTML", "html,json", "all"} {
		resp, body := c.Get(t, "/notifications/stream?fields="+v)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "fields must be html or json") {
			t.Fatalf("fields=%s: %d %q, want 400 saying what is accepted", v, resp.StatusCode, body)
		}
	}
	if n := app.Subscribers(); n != 0 {
		t.Fatalf("%d subscribers after refused streams", n)
	}
}
