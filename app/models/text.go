package models

import (
	"strings"
	"unicode/utf8"
)

// IsText reports whether s can be stored as text in every database Beacon
// runs on: valid UTF-8 without NUL characters, which PostgreSQL refuses.
func IsText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// NotText is the error for a field that fails IsText.
const NotText = "must be text (valid UTF-8, no NUL characters)"
