package models

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// IsText reports whether s can be stored as text in every database Beacon
// runs on: valid UTF-8 without NUL characters, which PostgreSQL refuses.
func IsText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// NotText is the error for a field that fails IsText.
const NotText = "must be text (valid UTF-8, no NUL characters)"

// IsHidden reports whether r is a control or invisible formatting
// character (Unicode Cc or Cf), which text people read should not hold: a
// right-to-left override (U+202E) reverses how what follows it displays,
// a zero-width space (U+200B) makes two words look like one. It is here,
// not in auth, so that user names and chat messages share it.
func IsHidden(r rune) bool { return unicode.In(r, unicode.Cc, unicode.Cf) }

// HasHidden is the error for text holding a character IsHidden refuses.
const HasHidden = "must not contain control or invisible formatting characters (such as U+202E)"
