package cluster

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"beacon/app/apptest"
)

// beacon is the binary the nodes run.
var beacon apptest.Binary

func TestMain(m *testing.M) {
	code := m.Run()
	beacon.Remove()
	os.Exit(code)
}

// beaconBinary is the built binary.
func beaconBinary(t *testing.T) string { return beacon.Path(t) }

// metricsToken is the METRICS_TOKEN of every node.
const metricsToken = "metrics"

// node is one instance: a subprocess of the built binary.
type node struct {
	name string
	base string
	cmd  *exec.Cmd
	app  *apptest.App
	done chan struct{} // closed once the process has exited
	err  error         // how it exited, once done is closed
	logs *apptest.LogBuffer
}

// startNode starts `beacon serve` on a free port, with env added to the
// test's own environment. It does not wait for it to answer. The node is
// killed when the test ends, and its log shown if the test failed.
func startNode(t *testing.T, name string, env ...string) *node {
	t.Helper()
	port := freePort(t)
	nd := &node{
		name: name,
		base: "http://127.0.0.1:" + port,
		cmd:  exec.Command(beaconBinary(t), "serve"),
		done: make(chan struct{}),
		logs: &apptest.LogBuffer{},
	}
	nd.cmd.Env = append(os.Environ(), "PORT="+port, "METRICS_TOKEN="+metricsToken)
	nd.cmd.Env = append(nd.cmd.Env, env...)
	nd.cmd.Stderr = nd.logs
	if err := nd.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		nd.err = nd.cmd.Wait()
		close(nd.done)
	}()
	t.Cleanup(func() {
		nd.cmd.Process.Kill()
		<-nd.done
		if t.Failed() {
			t.Logf("instance %s log:\n%s", nd.name, nd.logs)
		}
	})
	return nd
}

// startOnSQLite starts one node on a fresh SQLite file, with an admin
// ops@example.com, and waits until it answers /healthz. env is added to
// its environment.
func startOnSQLite(t *testing.T, env ...string) *node {
	t.Helper()
	env = append([]string{"DATABASE_URL=" + filepath.Join(t.TempDir(), "beacon.db"),
		"ADMIN_EMAIL=ops@example.com", "ADMIN_PASSWORD=a long password", "SECRET_KEY_BASE=test"}, env...)
	nd := startNode(t, "A", env...)
	nd.waitHealthy(t, false)
	return nd
}

// waitHealthy waits until the node answers /healthz with 200 and, if
// listening is set, with its listener connected.
func (nd *node) waitHealthy(t *testing.T, listening bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var h struct {
			Listener struct{ Connected bool }
		}
		resp, err := http.Get(nd.base + "/healthz")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
			if err == nil && resp.StatusCode == http.StatusOK && (h.Listener.Connected || !listening) {
				return
			}
		}
		select {
		case <-nd.done:
			t.Fatalf("instance %s exited: %v\n%s", nd.name, nd.err, nd.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance %s not healthy within 30s\n%s", nd.name, nd.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// getMetrics fetches the node's /metrics with its token.
func (nd *node) getMetrics() (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, nd.base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+metricsToken)
	return http.DefaultClient.Do(req)
}

// metric reads one value from the node's /metrics, or -1.
func (nd *node) metric(name string) float64 {
	resp, err := nd.getMetrics()
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return -1
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}
