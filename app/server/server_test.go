package server_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"beacon/app/apptest"
	"beacon/app/pgtest"
)

// On PostgreSQL the app picks the LISTEN/NOTIFY broker by itself, runs its
// listener, and shows it in /healthz and /metrics; on SQLite neither has a
// listener.
func TestHealthAndMetricsShowTheListener(t *testing.T) {
	sqlite := apptest.New(t, apptest.Options{})
	if _, body := sqlite.Client(t).Get(t, "/healthz"); strings.TrimSpace(body) != `{"status":"ok"}` {
		t.Fatalf("sqlite healthz: %s", body)
	}

	url := pgtest.URL(t)
	if url == "" {
		t.Skip("PostgreSQL not reachable: the listener is not tested")
	}
	app := apptest.New(t, apptest.Options{DatabaseURL: url, Env: map[string]string{"METRICS_TOKEN": "m"}})
	c := app.Client(t)
	var h struct {
		Status   string
		Listener *struct {
			Connected        bool
			LastHeardSeconds float64 `json:"last_heard_seconds"`
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, body := c.Get(t, "/healthz")
		if err := json.Unmarshal([]byte(body), &h); err != nil || resp.StatusCode != 200 || h.Status != "ok" || h.Listener == nil {
			t.Fatalf("healthz: %d %s", resp.StatusCode, body)
		}
		if h.Listener.Connected {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("listener not connected within 10s: %s", body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if h.Listener.LastHeardSeconds > 10 {
		t.Fatalf("a connected listener last heard %v s ago", h.Listener.LastHeardSeconds)
	}
	c.Header.Set("Authorization", "Bearer m")
	_, metrics := c.Get(t, "/metrics")
	for _, want := range []string{"beacon_listener_connected 1", "beacon_listener_last_heard_seconds ", "beacon_listener_reconnects_total 0"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
