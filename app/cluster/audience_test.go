package cluster

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"beacon/app/apptest"
)

// A post to a group on A reaches a member's stream on B with the group
// named; leaving the topic on A resets that stream on B at once, and the
// next post to the group does not reach it.
func TestClusterGroupPostAndMembershipChangeAcrossInstances(t *testing.T) {
	c := startCluster(t, 2)
	a, b := c.nodes[0], c.nodes[1]
	a.app.CreateUser(t, "Ada", "ada@example.com", "correct horse", false)
	if _, err := c.store.CreateGroup(context.Background(), "ops", true); err != nil {
		t.Fatal(err)
	}
	onA := a.app.Client(t)
	onA.Login(t, "ada@example.com", "correct horse")
	resp, body := onA.PostForm(t, "/topics/ops/follow", url.Values{"_csrf": {onA.CSRF(t)}})
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("follow ops on A: %d %s", resp.StatusCode, body)
	}
	onB := b.app.Client(t)
	onB.Jar = onA.Jar // the same browser: cookies are per host, not per port
	stream := onB.OpenStream(t, "")
	next := func(kind string) apptest.Event {
		t.Helper()
		for {
			if ev := stream.NextEvent(t, 10*time.Second); ev.Event == kind {
				return ev
			}
		}
	}

	post := func(title string) {
		t.Helper()
		if _, err := c.postFields(a, map[string]any{"title": title, "to": []string{"group:ops"}}); err != nil {
			t.Fatalf("post to ops: %v", err)
		}
	}
	post("for ops")
	if ev := next("notification"); !strings.Contains(ev.Data, `"title":"for ops"`) || !strings.Contains(ev.Data, `"groups":["ops"]`) {
		t.Fatalf("B's stream of a member of ops: %s", ev.Data)
	}

	resp, body = onA.PostForm(t, "/topics/ops/leave", url.Values{"_csrf": {onA.CSRF(t)}})
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("leave ops on A: %d %s", resp.StatusCode, body)
	}
	started := time.Now()
	next("reset")
	if d := time.Since(started); d > 2*time.Second {
		t.Errorf("leaving on A reset the stream on B after %v, want within 2s", d)
	}
	post("for ops, after she left")
	marker := c.mustPost(t, a, "for everyone")
	for {
		ev := stream.NextEvent(t, 10*time.Second)
		if strings.Contains(ev.Data, "after she left") {
			t.Fatalf("B's stream got a post to ops after she left it: %s", ev.Data)
		}
		if notificationID(t, ev) == marker {
			break
		}
	}
}
