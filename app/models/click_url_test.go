package models

import (
	"strings"
	"testing"
)

func TestCheckURLAcceptsOnlyWebAddressesAndLocalPaths(t *testing.T) {
	for u, want := range map[string]bool{
		"https://status.example.com/incidents/7": true,
		"http://intranet.example/build?id=4#log": true,
		"/notifications":                         true,
		"/":                                      true,
		"":                                       false,
		"javascript:alert(1)":                    false,
		"JavaScript:alert(1)":                    false,
		"data:text/html,<p>x":                    false,
		"//evil.example":                         false,
		`/\evil.example`:                         false,
		"ftp://files.example":                    false,
		"https://":                               false,
		"https:evil.example":                     false,
		"https://user:pw@example.com/":           false,
		"relative/path":                          false,
		"https://example.com/a b":                false,
		"https://example.com/\tx":                false,
		"/" + strings.Repeat("a", MaxURL):        false,
	} {
		if got := CheckURL(u); got != want {
			t.Errorf("CheckURL(%q) = %v, want %v", u, got, want)
		}
	}
}
