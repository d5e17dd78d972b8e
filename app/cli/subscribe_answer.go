package cli

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// checkAnswer says what to do with an answer that is not a stream: give
// up, or try again (when, and why).
func (f *follower) checkAnswer(resp *http.Response) error {
	if resp.StatusCode == http.StatusOK {
		ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if ct != "text/event-stream" {
			return fmt.Errorf("subscribe: %s answered with %q, not an event stream: is it a Beacon's address?", f.stream.Redacted(), ct)
		}
		return nil
	}
	status := fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	if msg := said(resp); msg != "" {
		status += ": " + msg
	}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		if f.token == "" {
			return fmt.Errorf("subscribe: the server refused a visitor (%s); pass a token with --token or BEACON_TOKEN", status)
		}
		return fmt.Errorf("subscribe: the token was refused (%s); it may be mistyped or revoked: make a new one on the Beacon's /settings page", status)
	case code == http.StatusTooManyRequests:
		return &tryAgain{retryAfter(resp.Header.Get("Retry-After"), f.delay()), errors.New(status)}
	case code >= 500:
		return &tryAgain{f.delay(), errors.New(status)}
	}
	return fmt.Errorf("subscribe: %s answered %s: is it a Beacon's address?", f.stream.Redacted(), status)
}

// retryAfter reads a Retry-After header (seconds, or an HTTP date); the
// fallback when there is none or it says nothing usable.
func retryAfter(h string, fallback time.Duration) time.Duration {
	var d time.Duration
	if s, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && s >= 0 {
		d = time.Duration(min(s, int(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = time.Until(t)
	}
	if d <= 0 {
		return fallback
	}
	return min(d, maxRetryAfter)
}

// said is the message of a refusal, or "" when it has none worth showing
// (an HTML page, say).
func said(resp *http.Response) string {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var j struct{ Error, Message string }
	msg := ""
	if json.Unmarshal(b, &j) == nil {
		msg = cmp.Or(j.Error, j.Message)
	} else if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct == "text/plain" {
		msg, _, _ = strings.Cut(string(b), "\n")
	}
	msg = strings.TrimSpace(oneLine(msg))
	if r := []rune(msg); len(r) > 200 {
		msg = string(r[:200]) + "…"
	}
	return msg
}
