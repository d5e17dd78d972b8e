package push_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"beacon/app/models"
	"beacon/app/push"
	"beacon/app/push/pushtest"
)

type counts struct{ sent, failed map[string]int }

func (c *counts) Sent(kind string)     { c.sent[kind]++ }
func (c *counts) Failed(status string) { c.failed[status]++ }

// What each answer of a push service becomes: a push that has failed for
// an hour is given up; before that a 5xx or 429 is tried again, not
// sooner than Retry-After; 410 is gone; another 4xx is dropped.
func TestEachAnswerOfThePushServiceBecomesAnOutcome(t *testing.T) {
	keys, err := push.NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	svc := pushtest.New(t, keys.Public)
	c := &counts{sent: map[string]int{}, failed: map[string]int{}}
	s := push.NewSender(keys, "mailto:ops@example.com", c, slog.New(slog.NewTextHandler(io.Discard, nil)), push.Options{})
	dev := svc.NewDevice(t, "d")
	sub := dev.Subscription()
	job := models.PushJob{NotificationID: 1, Endpoint: sub.Endpoint, P256dh: sub.Keys.P256dh, Auth: sub.Keys.Auth,
		Title: "t", Level: "info", Live: true, Sees: true, Prefs: models.DefaultPreferences(0)}
	hourAgo := time.Now().Add(-61 * time.Minute)
	minuteAgo := time.Now().Add(-time.Minute)
	for _, tc := range []struct {
		what    string
		answer  pushtest.Answer
		failing *time.Time
		want    models.PushResult
		least   time.Duration // RetryAt at least this far off
	}{
		{"201", pushtest.Answer{Status: 201}, nil, models.PushShown, 0},
		{"500", pushtest.Answer{Status: 500}, nil, models.PushRetry, 8 * time.Second},
		{"429 with Retry-After: 120", pushtest.Answer{Status: 429, RetryAfter: "120"}, &minuteAgo, models.PushRetry, 120 * time.Second},
		{"503 after failing for an hour", pushtest.Answer{Status: 503}, &hourAgo, models.PushDropped, 0},
		{"410", pushtest.Answer{Status: http.StatusGone}, nil, models.PushGone, 0},
		{"404", pushtest.Answer{Status: http.StatusNotFound}, nil, models.PushGone, 0},
		{"413", pushtest.Answer{Status: http.StatusRequestEntityTooLarge}, nil, models.PushDropped, 0},
	} {
		dev.AnswerNext(tc.answer)
		j := job
		j.FailingSince = tc.failing
		o := s.Push(context.Background(), j)
		if o.Result != tc.want {
			t.Errorf("%s: result %d, want %d", tc.what, o.Result, tc.want)
		}
		if tc.least > 0 && time.Until(o.RetryAt) < tc.least-time.Second {
			t.Errorf("%s: retried in %v, want at least %v", tc.what, time.Until(o.RetryAt), tc.least)
		}
		// A device gone is no failure: it is deleted at once.
		if failed := tc.answer.Status >= 400 && tc.want != models.PushGone; o.Failed != failed {
			t.Errorf("%s: Failed %v", tc.what, o.Failed)
		}
	}
	if c.sent["notification"] != 1 || c.failed["500"] != 1 || c.failed["410"] != 1 {
		t.Errorf("counts: %+v", c)
	}
	// Nothing to say: no request at all.
	read := job
	read.Read = true
	before := len(dev.Received())
	if o := s.Push(context.Background(), read); o.Result != models.PushDropped || o.Failed {
		t.Errorf("a read one: %+v", o)
	}
	if len(dev.Received()) != before {
		t.Error("a read one was pushed")
	}
	for _, err := range svc.Errors() {
		t.Error(err)
	}
}

// BenchmarkSenderPush is one push's cost in the sender: the encryption
// (RFC 8291), the VAPID token (RFC 8292) and the request, against a local
// push service that checks one push in a thousand.
func BenchmarkSenderPush(b *testing.B) {
	keys, err := push.NewKeys()
	if err != nil {
		b.Fatal(err)
	}
	svc := pushtest.New(b, keys.Public)
	svc.CheckEvery(1000)
	c := &counts{sent: map[string]int{}, failed: map[string]int{}}
	s := push.NewSender(keys, "mailto:ops@example.com", c, slog.New(slog.NewTextHandler(io.Discard, nil)), push.Options{})
	sub := svc.NewDevice(b, "d").Subscription()
	job := models.PushJob{NotificationID: 1, Endpoint: sub.Endpoint, P256dh: sub.Keys.P256dh, Auth: sub.Keys.Auth,
		Title: "Disk full", Body: "on db1", Level: "info", Live: true, Sees: true, Prefs: models.DefaultPreferences(0)}
	b.ResetTimer()
	for b.Loop() {
		if o := s.Push(context.Background(), job); o.Result != models.PushShown {
			b.Fatalf("%+v", o)
		}
	}
}
