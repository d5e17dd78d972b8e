package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"testing"
	"time"

	"beacon/app/apptest"
	"beacon/app/pgtest"
	"beacon/app/store"
)

// These tests run several `beacon serve` processes, the built binary, on
// one PostgreSQL schema, and check that they behave as one Beacon. Without
// PostgreSQL they skip.

// cluster is Beacon instances on one database schema.
type cluster struct {
	url     string // DATABASE_URL
	appName string // application_name of every connection of ours
	store   *store.Store
	token   string // an admin's API token
	nodes   []*node
}

// startCluster starts n instances at once on a fresh schema (so their
// migrations race, as two releases' would), waits until each is healthy
// and listening, and creates an admin with an API token.
func startCluster(t *testing.T, n int) *cluster {
	t.Helper()
	return startClusterWith(t, n, "")
}

// startClusterWith is startCluster with more parameters for DATABASE_URL
// ("synchronous_commit=off&…"), which pgx passes to the server, and more
// environment for every instance ("WEBPUSH_DELAY=1s").
func startClusterWith(t *testing.T, n int, params string, env ...string) *cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	base := pgtest.URL(t)
	if base == "" {
		t.Skip("PostgreSQL not reachable: the multi-instance tests skip")
	}
	c := &cluster{appName: fmt.Sprintf("beacon_cluster_%d", rand.Uint32())}
	c.url = base + "&application_name=" + c.appName
	if params != "" {
		c.url += "&" + params
	}
	for i := range n {
		c.nodes = append(c.nodes, startNode(t, string(rune('A'+i)),
			append([]string{"DATABASE_URL=" + c.url, "SECRET_KEY_BASE=cluster-test", "ADMIN_EMAIL=", "ADMIN_PASSWORD="}, env...)...))
	}
	for _, nd := range c.nodes {
		nd.waitHealthy(t, true)
	}
	st, err := store.Open(c.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c.store = st
	for _, nd := range c.nodes {
		nd.app = apptest.Remote(nd.base, st)
	}
	admin := c.nodes[0].app.CreateUser(t, "Ops", "ops@example.com", "a long password", true)
	c.token = c.nodes[0].app.Token(t, admin)
	return c
}

// post publishes a notification for everyone through the node's API. It
// does not fail the test, so posters may run on their own goroutines.
func (c *cluster) post(nd *node, title string) (int64, error) {
	return c.postFields(nd, map[string]any{"title": title, "level": "info"})
}

// postFields is post with the request's fields as given.
func (c *cluster) postFields(nd *node, fields map[string]any) (int64, error) {
	body, _ := json.Marshal(fields)
	req, _ := http.NewRequest(http.MethodPost, nd.base+"/api/notifications", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return 0, fmt.Errorf("post on %s: %d %s", nd.name, resp.StatusCode, b)
	}
	var n struct{ ID int64 }
	if err := json.Unmarshal(b, &n); err != nil {
		return 0, err
	}
	return n.ID, nil
}

func (c *cluster) mustPost(t *testing.T, nd *node, title string) int64 {
	t.Helper()
	id, err := c.post(nd, title)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// terminateBackends ends every database connection of the cluster's
// instances (the pools and the listeners), as a failover would.
func (c *cluster) terminateBackends(t *testing.T) int {
	t.Helper()
	var n int
	err := c.store.SQL().QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = $1 AND pid <> pg_backend_pid()`, c.appName).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// notificationIDs is every notification id in the database, ascending.
func (c *cluster) notificationIDs(t *testing.T) []int64 {
	t.Helper()
	rows, err := c.store.SQL().Query("SELECT id FROM notifications ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// notificationID is the id of a notification event's payload.
func notificationID(t *testing.T, ev apptest.Event) int64 {
	t.Helper()
	var n struct{ ID int64 }
	if err := json.Unmarshal([]byte(ev.Data), &n); err != nil {
		t.Fatalf("event data %q: %v", ev.Data, err)
	}
	return n.ID
}

// collect reads notification events from s until it holds want of them,
// failing the test after timeout; it returns their ids in arrival order.
func collect(t *testing.T, s *apptest.Stream, want int, timeout time.Duration) []int64 {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var ids []int64
	for len(ids) < want {
		ev := s.NextEvent(t, time.Until(deadline))
		if ev.Event == "notification" {
			ids = append(ids, notificationID(t, ev))
		}
	}
	return ids
}

// collectThrough reads notification ids from s up to and including last.
func collectThrough(t *testing.T, s *apptest.Stream, last int64) []int64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var ids []int64
	for len(ids) == 0 || ids[len(ids)-1] < last {
		if ev := s.NextEvent(t, time.Until(deadline)); ev.Event == "notification" {
			ids = append(ids, notificationID(t, ev))
		}
	}
	return ids
}

// checkOnceInOrder fails unless got is want, ascending, each once.
func checkOnceInOrder(t *testing.T, who string, got, want []int64) {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Fatalf("%s received %d notifications, want %d once each in id order:\n got %v\nwant %v", who, len(got), len(want), got, want)
	}
}
