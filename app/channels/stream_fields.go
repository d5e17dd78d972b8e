package channels

import (
	"bytes"
	"encoding/json"
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
// wire JSON (full, compact, one object): {"id","html"}, its members byte
// for byte but html without the HTML escaping encoding/json adds (an event
// stream is no HTML page, and "\u003c" is six bytes for one), and full
// without its html member. Derived from the one encoding, the variants
// cannot disagree with it or with the API.
func splitFields(full []byte) (html, plain []byte, err error) {
	dec := json.NewDecoder(bytes.NewReader(full))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil, errors.New("split fields: not a JSON object")
	}
	var id, markup json.RawMessage
	plain = make([]byte, 0, len(full))
	plain = append(plain, '{')
	start := 1 // where the next member begins in full
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("split fields: %w", err)
		}
		key, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, fmt.Errorf("split fields: %w", err)
		}
		end := int(dec.InputOffset()) // just after the value
		member := full[start:end]     // `,"key":value` or `"key":value`
		start = end
		switch key {
		case "id":
			id = v
		case "html":
			markup = v
			continue
		}
		member = bytes.TrimPrefix(member, []byte(","))
		if len(plain) > 1 {
			plain = append(plain, ',')
		}
		plain = append(plain, member...)
	}
	plain = append(plain, '}')
	if id == nil || markup == nil {
		return nil, nil, errors.New("split fields: no id or no html")
	}
	var s string
	if err := json.Unmarshal(markup, &s); err != nil {
		return nil, nil, fmt.Errorf("split fields: html: %w", err)
	}
	var b bytes.Buffer
	b.Grow(len(markup) + len(id) + 16)
	b.WriteString(`{"id":`)
	b.Write(id)
	b.WriteString(`,"html":`)
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, nil, fmt.Errorf("split fields: html: %w", err)
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	b.WriteByte('}')
	return b.Bytes(), plain, nil
}
