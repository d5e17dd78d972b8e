package push

import (
	"bytes"
	"encoding/json"
	"time"
	"unicode/utf8"

	"beacon/app/models"
)

// What a push tells the device (the payload's "kind").
const (
	KindNotification = "notification"
	KindUpdate       = "update"
	KindWithdraw     = "withdraw"
)

// MaxPayload bounds a payload, in bytes: the push services take about
// 4 KB after encryption, and a body cut to fit is better than none.
const MaxPayload = 3000

// Decide is what a claimed push tells its device at now, "" for nothing:
// a device that was shown the notification hears of its change (update)
// or that it is gone for this user (withdraw); one that was not is shown
// it, unless it is gone, no longer for the user, read meanwhile, or of a
// level the user's preferences keep from interrupting them now.
func Decide(j models.PushJob, now time.Time) string {
	switch {
	case !j.Live || !j.Sees:
		if j.Shown {
			return KindWithdraw
		}
		return ""
	case j.Shown:
		return KindUpdate
	case j.Read, !j.Prefs.Interrupts(j.Level, now):
		return ""
	}
	return KindNotification
}

type shownPayload struct {
	Kind      string  `json:"kind"`
	ID        int64   `json:"id"`
	Title     string  `json:"title"`
	Body      string  `json:"body"`
	Level     string  `json:"level"`
	URL       *string `json:"url"`
	CreatedAt string  `json:"created_at"`
}

type withdrawPayload struct {
	Kind string `json:"kind"`
	ID   int64  `json:"id"`
}

// Payload is the JSON the service worker reads for kind, at most
// MaxPayload bytes: the body is cut to fit (then the title, then the url
// left out), at a character boundary, ending in "…".
func Payload(kind string, j models.PushJob) []byte {
	if kind == KindWithdraw {
		return marshal(withdrawPayload{Kind: kind, ID: j.NotificationID})
	}
	p := shownPayload{Kind: kind, ID: j.NotificationID, Title: j.Title, Body: j.Body, Level: j.Level, URL: j.URL,
		CreatedAt: j.CreatedAt.UTC().Format(time.RFC3339)}
	for {
		b := marshal(p)
		over := len(b) - MaxPayload
		switch {
		case over <= 0:
			return b
		case p.Body != "":
			p.Body = cut(p.Body, over)
		case p.Title != "":
			p.Title = cut(p.Title, over)
		default:
			p.URL = nil
		}
	}
}

// cut shortens s by about over bytes of its JSON, to "" or to a prefix
// ending in "…": by as many bytes of s as over bytes of JSON take on
// average (an escaped character takes more), and Payload cuts again if
// that was not enough.
func cut(s string, over int) string {
	perByte := float64(len(marshal(s))-2) / float64(len(s))
	keep := len(s) - int(float64(over)/perByte+1) - len("…")
	if keep <= 0 {
		return ""
	}
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + "…"
}

func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // plain strings and numbers: cannot fail
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
