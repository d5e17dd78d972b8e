package cluster

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"testing"

	"beacon/app/apptest"
)

// Instances keep the API tokens they checked and forget them at the
// NOTIFY of a revocation. A token revoked with `beacon token revoke` (a
// process of its own) is refused by each instance as soon as it has heard
// anything published after the revocation, however recently it checked
// the token: here, a post made after it, which its stream received.
func TestClusterRevokedTokenIsRefusedByEveryInstance(t *testing.T) {
	c := startCluster(t, 2)
	a, b := c.nodes[0], c.nodes[1]
	admin, err := c.store.UserByEmail(t.Context(), "ops@example.com")
	if err != nil {
		t.Fatal(err)
	}
	other := a.app.Token(t, admin) // posts the markers
	onA, onB := a.app.Client(t).OpenStream(t, ""), b.app.Client(t).OpenStream(t, "")
	for range 2 { // the second is answered from what each instance kept
		for _, nd := range c.nodes {
			if code := postStatus(t, nd, c.token); code != http.StatusCreated {
				t.Fatalf("before revoking, on %s: %d", nd.name, code)
			}
		}
	}

	revoke := exec.Command(a.cmd.Path, "token", "revoke", c.token)
	revoke.Env = a.cmd.Env
	if out, err := revoke.CombinedOutput(); err != nil {
		t.Fatalf("token revoke: %v\n%s", err, out)
	}
	for _, step := range []struct {
		via, heard *node
		stream     *apptest.Stream
	}{{a, b, onB}, {b, a, onA}} {
		// Posted through the other instance: its NOTIFY follows the
		// revocation's on the listener of the one that must have heard.
		marker := c.postWith(t, step.via, other, "after the revocation")
		collectThrough(t, step.stream, marker)
		if code := postStatus(t, step.heard, c.token); code != http.StatusUnauthorized {
			t.Fatalf("revoked, and heard of on %s: %d, want 401", step.heard.name, code)
		}
	}
}

// postStatus posts a notification with token through nd's API and returns
// the status.
func postStatus(t *testing.T, nd *node, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, nd.base+"/api/notifications", bytes.NewReader([]byte(`{"title":"t","level":"info"}`)))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// postWith posts a notification with token through nd's API and returns
// its id.
func (c *cluster) postWith(t *testing.T, nd *node, token, title string) int64 {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"title": title, "level": "info"})
	req, _ := http.NewRequest(http.MethodPost, nd.base+"/api/notifications", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var n struct{ ID int64 }
	if err := json.NewDecoder(resp.Body).Decode(&n); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("post on %s: %d %v", nd.name, resp.StatusCode, err)
	}
	return n.ID
}
