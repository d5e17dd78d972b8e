package cluster

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"
)

// A person's read, unread, archive and "mark all" on one instance reach
// their stream on another as `state`, then the count.
func TestClusterInboxStateAcrossInstances(t *testing.T) {
	c := startCluster(t, 2)
	a, b := c.nodes[0], c.nodes[1]
	a.app.CreateUser(t, "Ada", "ada@example.com", "correct horse", false)
	first := c.mustPost(t, a, "one")
	second := c.mustPost(t, b, "two")

	onA := a.app.Client(t)
	onA.Login(t, "ada@example.com", "correct horse")
	onB := b.app.Client(t)
	onB.Jar = onA.Jar // the same browser: cookies are per host, not per port
	stream := onB.OpenStream(t, "")
	for {
		if ev := stream.NextEvent(t, 10*time.Second); ev.Event == "unread" {
			break
		}
	}
	for _, step := range []struct {
		path, state, unread string
	}{
		{fmt.Sprintf("/notifications/%d/read", first), fmt.Sprintf(`{"ids":[%d],"read":true}`, first), `{"unread":1}`},
		{fmt.Sprintf("/notifications/%d/archive", second), fmt.Sprintf(`{"ids":[%d],"archived":true}`, second), `{"unread":1}`},
		{fmt.Sprintf("/notifications/%d/unread", first), fmt.Sprintf(`{"ids":[%d],"read":false}`, first), `{"unread":2}`},
		{"/notifications/read_all", fmt.Sprintf(`{"all":true,"read":true,"through":%d}`, second), `{"unread":0}`},
	} {
		start := time.Now()
		if resp, body := onA.PostForm(t, step.path, url.Values{}); resp.StatusCode >= 400 {
			t.Fatalf("POST %s on A: %d %s", step.path, resp.StatusCode, body)
		}
		ev := stream.NextEvent(t, 10*time.Second)
		took := time.Since(start)
		if ev.Event != "state" || ev.Data != step.state {
			t.Fatalf("on B after %s on A: %s %s, want state %s", step.path, ev.Event, ev.Data, step.state)
		}
		if ev := stream.NextEvent(t, 10*time.Second); ev.Event != "unread" || ev.Data != step.unread {
			t.Fatalf("on B after the state: %s %s, want unread %s", ev.Event, ev.Data, step.unread)
		}
		// Logged, not asserted: a loaded machine is no failure of Beacon's.
		t.Logf("%s on A reached B's stream %v after the request began", step.path, took.Round(time.Millisecond))
	}
}

// A personal read token revoked on one instance is refused by another as
// soon as it heard of it, and the stream it opened there ends.
func TestClusterRevokedReadTokenEndsItsStreamEverywhere(t *testing.T) {
	c := startCluster(t, 2)
	a, b := c.nodes[0], c.nodes[1]
	a.app.CreateUser(t, "Ada", "ada@example.com", "correct horse", false)
	c.mustPost(t, a, "one")
	ada := a.app.Client(t)
	ada.Login(t, "ada@example.com", "correct horse")
	resp, page := ada.PostForm(t, "/settings/tokens", url.Values{"name": {"script"}})
	m := regexp.MustCompile(`<code class="new-token">(bcr_[A-Za-z0-9]+)</code>`).FindStringSubmatch(page)
	id := regexp.MustCompile(`/settings/tokens/(\d+)/revoke`).FindStringSubmatch(page)
	if resp.StatusCode != http.StatusCreated || m == nil || id == nil {
		t.Fatalf("make a token on A: %d", resp.StatusCode)
	}
	script := b.app.Client(t)
	script.Header.Set("Authorization", "Bearer "+m[1])
	for range 2 { // the second from what B kept
		if resp, body := script.Get(t, "/api/notifications?after=0"); resp.StatusCode != http.StatusOK {
			t.Fatalf("the token on B: %d %s", resp.StatusCode, body)
		}
	}
	stream := script.OpenStream(t, "")
	for {
		if ev := stream.NextEvent(t, 10*time.Second); ev.Event == "unread" {
			break
		}
	}
	if resp, _ := ada.PostForm(t, "/settings/tokens/"+id[1]+"/revoke", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke on A: %d", resp.StatusCode)
	}
	// The user's wake-up follows the tokens' on B's listener: once the
	// stream ended, B has forgotten the token.
	if !stream.Ended(10 * time.Second) {
		t.Fatal("the token's stream on B goes on after its revocation on A")
	}
	if resp, _ := script.Get(t, "/api/notifications?after=0"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the revoked token on B: %d, want 401", resp.StatusCode)
	}
}
