package models

import (
	"net/url"
	"strings"
	"unicode"
)

// MaxURL bounds a notification's click target, in bytes.
const MaxURL = 2000

// URLRule says what CheckURL accepts, for the answer to one it refuses.
const URLRule = "must be an https:// or http:// address, or a path starting with a single /"

// CheckURL reports whether u may be a notification's click target (its
// `url`): an absolute http(s) address with a host, or a path on this site
// starting with one slash. Anything a browser could read as another
// scheme (javascript:, data:) or another site (//host, /\host) is not,
// and neither are spaces or control characters, which browsers strip or
// mend in ways a check here cannot follow.
func CheckURL(u string) bool {
	if u == "" || len(u) > MaxURL || strings.ContainsFunc(u, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) ||
		strings.Contains(u, `\`) {
		return false
	}
	if strings.HasPrefix(u, "/") {
		return !strings.HasPrefix(u, "//")
	}
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "https" || p.Scheme == "http") && p.Host != "" && p.Opaque == "" && p.User == nil
}
