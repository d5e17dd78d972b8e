package controllers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"beacon/app/apptest"
)

// /settings saves what may interrupt the person with a plain form; a
// level or time zone that is not one, or half the quiet hours, is 422
// with the form and nothing saved.
func TestPreferencesAreSavedByAFormAndCheckedFirst(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, opts apptest.Options) {
		app := apptest.New(t, opts)
		u := app.CreateUser(t, "Ann", "ann@example.com", "password ann", false)
		c := app.Client(t)
		c.Login(t, "ann@example.com", "password ann")
		if _, page := c.Get(t, "/settings"); !strings.Contains(page, `name="levels" value="info" checked`) || !strings.Contains(page, "What may interrupt you") {
			t.Fatalf("the defaults are not every level:\n%s", page)
		}
		good := url.Values{"levels": {"warning", "error"}, "quiet_start": {"22:00"}, "quiet_end": {"07:00"},
			"time_zone": {"Europe/Berlin"}, "quiet_allow_errors": {"true"}}
		if resp, body := c.PostForm(t, "/settings", good); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("save: %d %s", resp.StatusCode, body)
		}
		p, err := app.Store.PreferencesOf(context.Background(), u.ID)
		if err != nil || p.Levels != "warning,error" || p.QuietStart != "22:00" || p.QuietEnd != "07:00" || p.TimeZone != "Europe/Berlin" || !p.QuietAllowErrors {
			t.Fatalf("saved: %+v (%v)", p, err)
		}
		if _, page := c.Get(t, "/settings"); strings.Contains(page, `value="info" checked`) || !strings.Contains(page, `value="error" checked`) {
			t.Error("the page does not show what was saved")
		}
		for what, form := range map[string]url.Values{
			"a level that is not one": {"levels": {"loud"}, "time_zone": {"UTC"}},
			"a time zone that is not": {"levels": {"info"}, "time_zone": {"Mars/Olympus"}},
			"no time zone":            {"levels": {"info"}, "time_zone": {""}},
			"half the quiet hours":    {"levels": {"info"}, "time_zone": {"UTC"}, "quiet_start": {"22:00"}},
			"a time that is not":      {"levels": {"info"}, "time_zone": {"UTC"}, "quiet_start": {"25:00"}, "quiet_end": {"07:00"}},
		} {
			resp, page := c.PostForm(t, "/settings", form)
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Nothing was saved") || !strings.Contains(page, `aria-invalid="true"`) {
				t.Errorf("%s: %d", what, resp.StatusCode)
			}
		}
		if after, _ := app.Store.PreferencesOf(context.Background(), u.ID); after.Levels != "warning,error" || after.TimeZone != "Europe/Berlin" {
			t.Errorf("a refused save changed them: %+v", after)
		}
		if resp, _ := app.Client(t).PostForm(t, "/settings", good); resp.StatusCode == http.StatusSeeOther && resp.Header.Get("Location") == "/settings" {
			t.Error("a visitor saved preferences")
		}
	})
}
