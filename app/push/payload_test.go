package push_test

import (
	"encoding/json"
	"strings"
	"testing"
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

// What a device is told follows what it was shown and what is true now.
func TestDecide(t *testing.T) {
	for _, c := range []struct {
		j    models.PushJob
		want string
	}{
		{models.PushJob{Live: true, Sees: true}, "notification"},
		{models.PushJob{Live: true, Sees: true, Read: true}, ""},
		{models.PushJob{Live: true, Sees: true, Shown: true}, "update"},
		{models.PushJob{Live: true, Sees: true, Shown: true, Read: true}, "update"},
		{models.PushJob{Live: false, Sees: true, Shown: true}, "withdraw"},
		{models.PushJob{Live: true, Sees: false, Shown: true}, "withdraw"},
		{models.PushJob{Live: false, Sees: true}, ""},
		{models.PushJob{Live: true, Sees: false}, ""},
	} {
		if got := push.Decide(c.j); got != c.want {
			t.Errorf("%+v: %q, want %q", c.j, got, c.want)
		}
	}
}
