// Package components holds the templ components shared by pages and live
// fragments.
package components

import (
	"context"
	"strings"

	"beacon/app/models"
)

// LevelLabel is the word shown beside a notification, so its level is not
// told by colour alone.
func LevelLabel(level string) string {
	switch level {
	case "success":
		return "Success"
	case "warning":
		return "Warning"
	case "error":
		return "Error"
	default:
		return "Info"
	}
}

// LevelIcon is the symbol drawn before the level's label: a second cue
// besides colour, hidden from screen readers, which read the label.
func LevelIcon(level string) string {
	switch level {
	case "success":
		return "✓"
	case "warning":
		return "!"
	case "error":
		return "×"
	default:
		return "i"
	}
}

// NotificationHTML renders the Notification component to a string: the
// stream's html field.
func NotificationHTML(ctx context.Context, n models.Notification) (string, error) {
	var b strings.Builder
	if err := Notification(n).Render(ctx, &b); err != nil {
		return "", err
	}
	return b.String(), nil
}

// ChatMessageHTML renders the ChatMessage component to a string: the chat
// frame's html field.
func ChatMessageHTML(ctx context.Context, m models.ChatMessage) (string, error) {
	var b strings.Builder
	if err := ChatMessage(m).Render(ctx, &b); err != nil {
		return "", err
	}
	return b.String(), nil
}
