package controllers_test

import (
	"fmt"
	"strings"
	"testing"

	"beacon/app/apptest"
)

// The list API and the long poll say, for a signed-in user, whether they
// read each notification; a visitor's list says nothing of it.
func TestTheListSaysWhatTheUserRead(t *testing.T) {
	app, _, token := apptest.WithAdmin(t, apptest.Options{})
	app.CreateUser(t, "Ann", "ann@example.com", "password ann", false)
	ann := app.Client(t)
	ann.Login(t, "ann@example.com", "password ann")
	first := app.Notify(t, token, map[string]string{"title": "first"})
	second := app.Notify(t, token, map[string]string{"title": "second"})
	markJSON(t, ann, readPath(first), second)

	for _, path := range []string{"/api/notifications?after=0", "/api/notifications/poll?after=0&timeout=1"} {
		_, body := ann.Get(t, path)
		for id, read := range map[int64]string{first: `"read":true`, second: `"read":false`} {
			if !strings.Contains(body, fmt.Sprintf(`"id":%d,`, id)) || !strings.Contains(itemOf(body, id), read) {
				t.Errorf("Ann's %s: %d should carry %s:\n%s", path, id, read, body)
			}
		}
		if _, visitor := app.Client(t).Get(t, path); strings.Contains(visitor, `"read"`) {
			t.Errorf("a visitor's %s says what was read:\n%s", path, visitor)
		}
	}
}

// itemOf is the JSON object of notification id within a list's body.
func itemOf(body string, id int64) string {
	start := strings.Index(body, fmt.Sprintf(`{"id":%d,`, id))
	if start < 0 {
		return ""
	}
	end := strings.Index(body[start:], `},{`)
	if end < 0 {
		return body[start:]
	}
	return body[start : start+end]
}
