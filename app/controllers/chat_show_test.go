package controllers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"beacon/app/apptest"
	"beacon/app/models"
)

// The chat page shows the room's last 50 messages; the WebSocket's history
// frame is the hub's (chat.TestChatHistoryOnConnect).
func TestChatHistoryOnThePage(t *testing.T) {
	app := apptest.New(t, apptest.Options{})
	annClient := chatUser(t, app, "Ann")
	ann, err := app.Store.UserByEmail(context.Background(), "ann@example.com")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 55 {
		m := models.ChatMessage{Room: "general", UserID: ann.ID, Body: fmt.Sprintf("<i>m%d</i>", i)}
		if err := app.Store.CreateChatMessage(context.Background(), &m); err != nil {
			t.Fatal(err)
		}
	}

	resp, body := annClient.Get(t, "/chat")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "&lt;i&gt;m54&lt;/i&gt;") ||
		strings.Contains(body, "m4<") || strings.Contains(body, "<i>") || !strings.Contains(body, `src="/assets/chat.js?v=`) {
		t.Fatalf("chat page %d:\n%s", resp.StatusCode, body)
	}
	// A visitor is asked to sign in and sees neither messages nor the box.
	resp, body = app.Client(t).Get(t, "/chat/general")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `href="/login"`) ||
		strings.Contains(body, "m54") || strings.Contains(body, "chat-form") {
		t.Fatalf("visitor page %d:\n%s", resp.StatusCode, body)
	}
	for _, path := range []string{"/chat/General", "/chat/" + strings.Repeat("a", 41), "/chat/a.b", "/chat/%C3%A9"} {
		if resp, _ := annClient.Get(t, path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
}
