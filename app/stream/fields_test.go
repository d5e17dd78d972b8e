package stream

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"beacon/app/models"
	"beacon/views/components"
)

// The variants say what the whole JSON says, whatever a title holds:
// {"id","html"} decodes to the same id and html, the rest is the JSON with
// its html member cut out, byte for byte.
func TestSplitFieldsAgreesWithTheWholeJSON(t *testing.T) {
	key := `deploy "k"`
	email := "ann@example.com"
	titles := []string{
		"plain", `<b>bold</b> & "quoted"`, `back\slash \u003c literal \"`, "line\nbreak\ttab",
		"unicode: é ✓ \u2028 \U0001F600", `}{][,:`, strings.Repeat("<>&", 100),
	}
	for i, title := range titles {
		n := models.Notification{
			ID: int64(100 + i), Position: int64(200 + i), Title: title, Body: title, Level: "warning",
			CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), UpdatedAt: time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC),
		}
		if i%2 == 1 {
			n.Key = &key
			n.Recipient = &models.User{Email: email}
		}
		full, err := components.NotificationJSON(context.Background(), n)
		if err != nil {
			t.Fatal(err)
		}
		html, plain, err := splitFields(full)
		if err != nil {
			t.Fatalf("%q: %v", title, err)
		}
		var whole, h, p map[string]any
		for _, d := range []struct {
			b []byte
			m *map[string]any
		}{{full, &whole}, {html, &h}, {plain, &p}} {
			if err := json.Unmarshal(d.b, d.m); err != nil {
				t.Fatalf("%q: %s: %v", title, d.b, err)
			}
		}
		if want := map[string]any{"id": whole["id"], "html": whole["html"]}; !reflect.DeepEqual(h, want) {
			t.Fatalf("%q: html variant %s, want the id and html of %s", title, html, full)
		}
		if bytes.Contains(html, []byte(`\u003c`)) && !strings.Contains(title, `\u003c`) {
			t.Fatalf("%q: html variant still escaped for HTML: %s", title, html)
		}
		raw, _ := json.Marshal(whole["html"])
		if want := bytes.Replace(full, append([]byte(`,"html":`), raw...), nil, 1); !bytes.Equal(plain, want) {
			t.Fatalf("%q: json variant\n%s\nwant\n%s", title, plain, want)
		}
	}
}

func TestSplitFieldsRefusesWhatIsNoNotification(t *testing.T) {
	for _, in := range []string{``, `[]`, `{}`, `{"id":1}`, `{"html":"x"}`, `{"id":1,"html":"unterminated}`, `{"id":1,"html":5}`} {
		if _, _, err := splitFields([]byte(in)); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
}

// BenchmarkSplitFields is what the variants add to rendering a frame.
func BenchmarkSplitFields(b *testing.B) {
	n := models.Notification{ID: 123456, Position: 123456, Title: "Deploy finished", Body: "v1.2 is live on every instance", Level: "success"}
	full, err := components.NotificationJSON(context.Background(), n)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := splitFields(full); err != nil {
			b.Fatal(err)
		}
	}
}
