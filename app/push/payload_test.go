package push_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"beacon/app/models"
	"beacon/app/push"
)

// A payload is at most 3,000 bytes of JSON: a long body is cut at a
// character boundary and ends in "…", whatever its characters cost in JSON.
func TestAPayloadIsCutToFitAndStaysJSON(t *testing.T) {
	url := "https://example.com/" + strings.Repeat("p", 1900)
	for what, body := range map[string]string{
		"short":                 "on db1",
		"long ASCII":            strings.Repeat("a", 5000),
		"long multi-byte":       strings.Repeat("é€😀", 800),
		"escaped in JSON (\\n)": strings.Repeat("\n\"", 2000),
	} {
		j := models.PushJob{NotificationID: 7, Title: strings.Repeat("T", 200), Body: body, Level: "info", URL: &url}
		p := push.Payload(push.KindNotification, j)
		var got struct {
			Kind, Title, Body, URL string
			ID                     int64
		}
		if err := json.Unmarshal(p, &got); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		switch {
		case len(p) > push.MaxPayload:
			t.Errorf("%s: %d bytes", what, len(p))
		case got.Kind != "notification" || got.ID != 7 || got.URL != url || got.Title != j.Title:
			t.Errorf("%s: %+v", what, got)
		case !utf8.ValidString(got.Body):
			t.Errorf("%s: body cut inside a character", what)
		case len(body) < 1000 && got.Body != body:
			t.Errorf("%s: body %q, want it whole", what, got.Body)
		case len(body) >= 1000 && (!strings.HasSuffix(got.Body, "…") || len(p) < push.MaxPayload-20):
			t.Errorf("%s: body cut to %d bytes of JSON, %.20q", what, len(p), got.Body)
		}
	}
	if got := string(push.Payload(push.KindWithdraw, models.PushJob{NotificationID: 9, Title: "x"})); got != `{"kind":"withdraw","id":9}` {
		t.Errorf("withdraw payload %s", got)
	}
}

// What a device is told follows what it was shown, what is true now, and
// what the user lets interrupt them.
func TestDecide(t *testing.T) {
	all := models.DefaultPreferences(1)
	noInfo := all
	noInfo.Levels = "success,warning,error"
	night := all
	night.QuietStart, night.QuietEnd, night.TimeZone = "22:00", "07:00", "Europe/Berlin"
	nightErrors := night
	nightErrors.QuietAllowErrors = true
	noon := time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC)     // 12:00 in Berlin
	midnight := time.Date(2026, 12, 7, 23, 0, 0, 0, time.UTC) // 00:00 in Berlin
	for _, c := range []struct {
		j    models.PushJob
		at   time.Time
		want string
	}{
		{models.PushJob{Live: true, Sees: true, Level: "info", Prefs: all}, noon, "notification"},
		{models.PushJob{Live: true, Sees: true, Level: "info", Read: true, Prefs: all}, noon, ""},
		{models.PushJob{Live: true, Sees: true, Level: "info", Shown: true, Prefs: all}, noon, "update"},
		{models.PushJob{Live: true, Sees: true, Level: "info", Shown: true, Read: true, Prefs: all}, noon, "update"},
		{models.PushJob{Live: false, Sees: true, Level: "info", Shown: true, Prefs: all}, noon, "withdraw"},
		{models.PushJob{Live: true, Sees: false, Level: "info", Shown: true, Prefs: all}, noon, "withdraw"},
		{models.PushJob{Live: false, Sees: true, Level: "info", Prefs: all}, noon, ""},
		{models.PushJob{Live: true, Sees: false, Level: "info", Prefs: all}, noon, ""},
		{models.PushJob{Live: true, Sees: true, Level: "info", Prefs: noInfo}, noon, ""},
		{models.PushJob{Live: true, Sees: true, Level: "error", Prefs: noInfo}, noon, "notification"},
		{models.PushJob{Live: true, Sees: true, Level: "info", Prefs: night}, noon, "notification"},
		{models.PushJob{Live: true, Sees: true, Level: "info", Prefs: night}, midnight, ""},
		{models.PushJob{Live: true, Sees: true, Level: "error", Prefs: night}, midnight, ""},
		{models.PushJob{Live: true, Sees: true, Level: "error", Prefs: nightErrors}, midnight, "notification"},
		{models.PushJob{Live: true, Sees: true, Level: "warning", Prefs: nightErrors}, midnight, ""},
	} {
		if got := push.Decide(c.j, c.at); got != c.want {
			t.Errorf("%+v at %v: %q, want %q", c.j, c.at, got, c.want)
		}
	}
}
