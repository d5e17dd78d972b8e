package stream

import (
	"errors"
	"fmt"
)

// Fields is what a stream's notification and update events carry in their
// data (`?fields=` on the stream). Every other event (withdraw, reset,
// unread) is the same whatever was asked for.
type Fields uint8

const (
	// AllFields is the notification's whole wire JSON, html included: the
	// stream's frame when a client asks for nothing.
	AllFields Fields = iota
	// HTMLFields is {"id","html"} alone: what the feed page uses.
	HTMLFields
	// JSONFields is the wire JSON without html: for clients that render
	// notifications themselves.
	JSONFields
	numFields
)

// ParseFields reads a stream's `fields` parameter: "" (absent) is
// AllFields, "html" HTMLFields, "json" JSONFields. Anything else is an
// error that says what is accepted.
func ParseFields(s string) (Fields, error) {
	switch s {
	case "":
		return AllFields, nil
	case "html":
		return HTMLFields, nil
	case "json":
		return JSONFields, nil
	}
	return AllFields, fmt.Errorf("fields must be html or json (or left out for every field), not %q", s)
}

// splitFields derives the other variants' data from a notification's whole
// wire JSON (full: one compact object, as encoding/json writes it):
// {"id","html"}, its members byte for byte but html without the HTML
// escaping encoding/json adds (an event stream is no HTML page, and
// "\u003c" is six bytes for one), and full without its html member.
// Derived from the one encoding, the variants cannot disagree with it or
// with the API. It scans rather than decodes: a change is rendered once,
// but a replay renders each change it sends again.
func splitFields(full []byte) (html, plain []byte, err error) {
	if len(full) < 2 || full[0] != '{' || full[len(full)-1] != '}' {
		return nil, nil, errors.New("split fields: not a JSON object")
	}
	var id, markup []byte
	plain = make([]byte, 0, len(full))
	plain = append(plain, '{')
	for i := 1; i < len(full)-1; {
		if full[i] == ',' {
			i++
		}
		keyEnd := skipValue(full, i) // the key is a string
		if keyEnd < 0 || keyEnd >= len(full) || full[keyEnd] != ':' {
			return nil, nil, errors.New("split fields: malformed member")
		}
		end := skipValue(full, keyEnd+1)
		if end < 0 {
			return nil, nil, errors.New("split fields: malformed value")
		}
		key, value := full[i:keyEnd], full[keyEnd+1:end]
		switch string(key) {
		case `"id"`:
			id = value
		case `"html"`:
			markup = value
		}
		if string(key) != `"html"` {
			if len(plain) > 1 {
				plain = append(plain, ',')
			}
			plain = append(plain, full[i:end]...)
		}
		i = end
	}
	plain = append(plain, '}')
	if id == nil || len(markup) < 2 || markup[0] != '"' {
		return nil, nil, errors.New("split fields: no id or no html")
	}
	html = make([]byte, 0, len(markup)+len(id)+16)
	html = append(html, `{"id":`...)
	html = append(html, id...)
	html = append(html, `,"html":`...)
	html = appendUnescapedHTML(html, markup)
	html = append(html, '}')
	return html, plain, nil
}

// skipValue returns the index just after the JSON value (or key) that
// starts at b[i], or -1 when it does not end.
func skipValue(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if i >= len(b) {
				return -1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i // a number or literal that ends the object
			}
			depth--
		case ',', ':':
			if depth == 0 {
				return i
			}
			continue
		default:
			continue // inside a number or literal
		}
		if depth == 0 {
			return i + 1
		}
	}
	return -1
}

// appendUnescapedHTML appends the JSON string s with encoding/json's HTML
// escapes (\u003c, \u003e, \u0026) written as the characters they stand
// for; every other escape stays.
func appendUnescapedHTML(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			dst = append(dst, s[i])
			continue
		}
		if s[i+1] == 'u' && i+6 <= len(s) {
			switch string(s[i+2 : i+6]) {
			case "003c":
				dst, i = append(dst, '<'), i+5
				continue
			case "003e":
				dst, i = append(dst, '>'), i+5
				continue
			case "0026":
				dst, i = append(dst, '&'), i+5
				continue
			}
		}
		dst = append(dst, s[i], s[i+1]) // \" \\ \n \u…: as they are
		i++
	}
	return dst
}
