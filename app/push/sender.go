package push

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/SherClockHolmes/webpush-go"

	"beacon/app/models"
)

// How long a push is tried, and how long the push services keep one for
// a device that is offline (TTL: at most a day, as the contract says).
const (
	retryFor    = time.Hour
	firstRetry  = 10 * time.Second
	maxBackoff  = 10 * time.Minute
	ttl         = 24 * time.Hour
	sendTimeout = 30 * time.Second
)

// Sender pushes to the browsers' push services: VAPID (RFC 8292) and the
// encryption (RFC 8291) are webpush-go's.
type Sender struct {
	keys       Keys
	subject    string
	client     *http.Client
	log        *slog.Logger
	counts     Counter
	firstRetry time.Duration
	allowed    []string
	// noSubject is logged once, at the first push, when no contact was
	// given.
	noSubject sync.Once
	defaulted bool
}

// Options tune a Sender; zero fields take the defaults.
type Options struct {
	// Conns bounds the idle connections kept to one push service for
	// the next pushes (default 64).
	Conns int
	// AllowedHosts, when set, are WEBPUSH_ALLOWED_HOSTS: a device whose
	// endpoint is no longer on them is deleted rather than pushed to.
	AllowedHosts []string
	// FirstRetry is the wait after a first failure (default 10s), which
	// doubles after each up to ten minutes.
	FirstRetry time.Duration
}

// Counter counts what the push services answered, for /metrics.
type Counter interface {
	Sent(kind string)
	Failed(status string)
}

// NewSender signs with keys and names subject (WEBPUSH_SUBJECT, a mailto:
// or https: address) as the contact the push services may write to; ""
// names https://localhost, and the first push logs a warning.
func NewSender(keys Keys, subject string, counts Counter, log *slog.Logger, opts Options) *Sender {
	defaulted := subject == ""
	if defaulted {
		subject = "https://localhost"
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = cmp.Or(opts.Conns, 64)
	return &Sender{keys: keys, subject: subject, defaulted: defaulted, log: log, counts: counts, firstRetry: cmp.Or(opts.FirstRetry, firstRetry), allowed: opts.AllowedHosts, client: &http.Client{
		Transport: tr,
		Timeout:   sendTimeout,
		// A push service answers; it never sends Beacon elsewhere (an
		// allowed host must not lead to one that is not).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Push decides what j's device is to be told (Decide), tells it, and says
// what became of it. A push cut short by ctx is released, to be sent
// again by whichever instance claims it next.
func (s *Sender) Push(ctx context.Context, j models.PushJob) models.PushOutcome {
	if s.allowed != nil && checkEndpoint(j.Endpoint, s.allowed) != nil {
		// WEBPUSH_ALLOWED_HOSTS was narrowed since it subscribed.
		s.log.Info("push subscription no longer allowed: deleted", "subscription", j.SubscriptionID, "host", host(j.Endpoint))
		return models.PushOutcome{Job: j, Result: models.PushGone}
	}
	kind := Decide(j, time.Now())
	if kind == "" {
		return models.PushOutcome{Job: j, Result: models.PushDropped}
	}
	status, retryAfter, err := s.send(ctx, kind, j)
	now := time.Now()
	switch {
	case err != nil && ctx.Err() != nil:
		return models.PushOutcome{Job: j, Result: models.PushReleased}
	case err != nil:
		s.counts.Failed("error")
		return s.retry(j, now, 0, err.Error())
	case status >= 200 && status < 300:
		s.counts.Sent(kind)
		if kind == KindWithdraw {
			return models.PushOutcome{Job: j, Result: models.PushClosed}
		}
		return models.PushOutcome{Job: j, Result: models.PushShown}
	}
	s.counts.Failed(strconv.Itoa(status))
	switch {
	case status == http.StatusNotFound || status == http.StatusGone:
		s.log.Info("push subscription gone: deleted", "subscription", j.SubscriptionID, "user", j.UserID, "status", status)
		return models.PushOutcome{Job: j, Result: models.PushGone}
	case status == http.StatusTooManyRequests || status >= 500:
		return s.retry(j, now, retryAfter, http.StatusText(status))
	}
	s.log.Warn("push refused: dropped", "subscription", j.SubscriptionID, "notification", j.NotificationID,
		"host", host(j.Endpoint), "status", status)
	return models.PushOutcome{Job: j, Result: models.PushDropped, Failed: true}
}

// retry is j tried again after a backoff (at least retryAfter, as the push
// service asked), or given up once it has failed for retryFor.
func (s *Sender) retry(j models.PushJob, now time.Time, retryAfter time.Duration, why string) models.PushOutcome {
	if j.FailingSince != nil && now.Sub(*j.FailingSince) >= retryFor {
		s.log.Warn("push failing for an hour: dropped", "subscription", j.SubscriptionID, "notification", j.NotificationID,
			"host", host(j.Endpoint), "last", why)
		return models.PushOutcome{Job: j, Result: models.PushDropped, Failed: true}
	}
	return models.PushOutcome{Job: j, Result: models.PushRetry, RetryAt: now.Add(backoff(s.firstRetry, j.Attempts, retryAfter)), Failed: true}
}

// backoff is how long to wait after attempts failed tries: doubling from
// first up to maxBackoff, a fifth either way at random so that a
// push service's devices do not all come back at once, and never less
// than retryAfter (up to retryFor).
func backoff(first time.Duration, attempts int, retryAfter time.Duration) time.Duration {
	d := maxBackoff
	if attempts < 20 {
		d = min(first<<attempts, maxBackoff)
	}
	d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	return max(d, min(retryAfter, retryFor))
}

// send makes one push request: its status, and the Retry-After it asked.
func (s *Sender) send(ctx context.Context, kind string, j models.PushJob) (int, time.Duration, error) {
	if s.defaulted {
		s.noSubject.Do(func() {
			s.log.Warn("WEBPUSH_SUBJECT, ADMIN_EMAIL and ALLOWED_ORIGINS are unset: pushes name https://localhost as the contact " +
				"the push services may write to; set WEBPUSH_SUBJECT to a mailto: or https: address of yours")
		})
	}
	urgency := webpush.UrgencyNormal
	if j.Level == "error" {
		urgency = webpush.UrgencyHigh
	}
	res, err := webpush.SendNotificationWithContext(ctx, Payload(kind, j),
		&webpush.Subscription{Endpoint: j.Endpoint, Keys: webpush.Keys{P256dh: j.P256dh, Auth: j.Auth}},
		&webpush.Options{
			HTTPClient:      s.client,
			Subscriber:      strings.TrimPrefix(s.subject, "mailto:"), // webpush-go adds it back
			VAPIDPublicKey:  s.keys.Public,
			VAPIDPrivateKey: s.keys.Private,
			TTL:             int(ttl / time.Second),
			Urgency:         urgency,
			// One pending push per notification: a newer one replaces it
			// at the push service while the device is away.
			Topic: "n" + strconv.FormatInt(j.NotificationID, 10),
		})
	if err != nil {
		// The error names the endpoint, which is the device's secret.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return 0, 0, fmt.Errorf("push to %s: %w", host(j.Endpoint), err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096)) // so the connection is kept
	return res.StatusCode, retryAfter(res.Header.Get("Retry-After")), nil
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// host is an endpoint's host, which logs may name (the rest of it is the
// device's secret).
func host(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "?"
	}
	return u.Host
}
