package chat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"beacon/app/models"
)

// The chat WebSocket's JSON frames, and nothing else (the presence frame
// is with the rest of presence, in presence.go).

// Renderer renders the HTML fragment of a chat message: the same one
// the chat page shows.
type Renderer func(ctx context.Context, m models.ChatMessage) (string, error)

type chatUserJSON struct {
	Name string `json:"name"`
}

// chatMessageJSON is a message frame; the history frame lists the same.
type chatMessageJSON struct {
	Type      string       `json:"type"`
	ID        int64        `json:"id"`
	Room      string       `json:"room"`
	User      chatUserJSON `json:"user"`
	Body      string       `json:"body"`
	CreatedAt time.Time    `json:"created_at"`
	HTML      string       `json:"html"`
}

// encodeChatMessage renders m's frame once; every client gets these bytes.
func encodeChatMessage(ctx context.Context, render Renderer, m models.ChatMessage) ([]byte, error) {
	html, err := render(ctx, m)
	if err != nil {
		return nil, fmt.Errorf("render chat message %d: %w", m.ID, err)
	}
	return json.Marshal(chatMessageJSON{
		Type: "message", ID: m.ID, Room: m.Room, User: chatUserJSON{Name: m.User.Name},
		Body: m.Body, CreatedAt: m.CreatedAt.UTC(), HTML: html,
	})
}

// historyFrame lists message frames, oldest first.
func historyFrame(messages []chatFrame) []byte {
	var b bytes.Buffer
	b.WriteString(`{"type":"history","messages":[`)
	for i, m := range messages {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(m.frame)
	}
	b.WriteString("]}")
	return b.Bytes()
}

func errorFrame(msg string) []byte {
	b, _ := json.Marshal(struct {
		Type  string `json:"type"`
		Error string `json:"error"`
	}{"error", msg})
	return b
}

// parseChatFrame reads what a client sent: the body of a message, or why
// it is refused.
func parseChatFrame(kind int, data []byte) (body, problem string) {
	if kind != websocket.TextMessage {
		return "", "only text frames are accepted"
	}
	var in struct {
		Type string `json:"type"`
		Body string `json:"body"`
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return "", `not JSON of the form {"type":"message","body":"…"}`
	}
	switch {
	case in.Type != "message":
		return "", fmt.Sprintf("unknown frame type %q", in.Type)
	case strings.IndexFunc(in.Body, shows) < 0:
		return "", "the message is empty"
	case !models.IsText(in.Body):
		return "", "the message must be text (no NUL characters)"
	case strings.IndexFunc(in.Body, hiddenInMessage) >= 0:
		return "", "the message " + models.HasHidden
	case utf8.RuneCountInString(in.Body) > models.MaxChatBody:
		return "", fmt.Sprintf("the message is over %d characters", models.MaxChatBody)
	}
	return in.Body, ""
}

// hiddenInMessage is models.IsHidden (what user names refuse too), but for
// what a message may hold besides: line breaks and tabs, and the
// zero-width non-joiner and joiner (U+200C, U+200D), which Persian and
// Indic scripts and emoji sequences such as 👨‍👩‍👧 need; neither reorders text.
func hiddenInMessage(r rune) bool {
	switch r {
	case '\n', '\r', '\t', '\u200c', '\u200d':
		return false
	}
	return models.IsHidden(r)
}

// shows reports whether r is seen: not white space, not a control or
// formatting character, and not one of the other characters that display
// as nothing (variation selectors, Hangul fillers): a message of only
// those looks empty.
func shows(r rune) bool {
	return !unicode.IsSpace(r) && !models.IsHidden(r) &&
		!unicode.In(r, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}
