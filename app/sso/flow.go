package sso

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"time"

	"golang.org/x/oauth2"
)

// FlowLifetime is how long a sign-in may take at the provider: a callback
// later than that is refused, and the person starts again.
const FlowLifetime = 10 * time.Minute

// Flow is one sign-in through the provider, from its start to its
// callback: what the browser's session keeps in between (server-side,
// never shown), so that the callback accepts only a flow this browser
// started.
type Flow struct {
	State       string    `json:"state"`
	Nonce       string    `json:"nonce"`
	Verifier    string    `json:"verifier"` // PKCE; the provider sees only its S256 hash
	RedirectURL string    `json:"redirect_url"`
	Next        string    `json:"next"` // a local path to go to after, or ""
	Expires     time.Time `json:"expires"`
}

// NewFlow starts a flow with random state, nonce and PKCE verifier.
func NewFlow(redirectURL, next string, now time.Time) Flow {
	return Flow{
		State:       rand.Text(),
		Nonce:       rand.Text(),
		Verifier:    oauth2.GenerateVerifier(),
		RedirectURL: redirectURL,
		Next:        next,
		Expires:     now.Add(FlowLifetime),
	}
}

// Matches reports whether a callback carrying state belongs to f, in time.
func (f Flow) Matches(state string, now time.Time) bool {
	return f.State != "" && subtle.ConstantTimeCompare([]byte(f.State), []byte(state)) == 1 && now.Before(f.Expires)
}

// Encode is f as the session keeps it.
func (f Flow) Encode() []byte {
	b, _ := json.Marshal(f) // strings and a time: cannot fail
	return b
}

// DecodeFlow reads a flow Encode wrote; none (nil) is the zero Flow.
func DecodeFlow(b []byte) (Flow, error) {
	var f Flow
	if len(b) == 0 {
		return f, nil
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("decode sign-in flow: %w", err)
	}
	return f, nil
}
