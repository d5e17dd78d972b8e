package cluster

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMeasureStreams opens many real SSE connections to the real binary
// and reports what each costs the server and how fast one notification
// reaches all of them. It is a measurement, not a check, so it runs only
// when asked:
//
//	BEACON_MEASURE_STREAMS=10000 go test -run MeasureStreams -v ./app/cluster/
//
// BEACON_MEASURE_SETTLE=130s measures again after that long, once the
// runtime has shrunk the idle streams' stacks.
func TestMeasureStreams(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("BEACON_MEASURE_STREAMS"))
	if n <= 0 {
		t.Skip("set BEACON_MEASURE_STREAMS=N to measure N streams")
	}
	nd := startOnSQLite(t, "STREAM_LIMIT_ADDRESS=0", "STREAM_LIMIT_USER=0")
	base, port := nd.base, strings.TrimPrefix(nd.base, "http://127.0.0.1:")
	tokenCmd := exec.Command(nd.cmd.Path, "token", "create", "ops@example.com")
	tokenCmd.Env = nd.cmd.Env
	tokenOut, err := tokenCmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tokenOut))

	before := serverMemory(t, nd)
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		arrivals  []time.Time
		ready     sync.WaitGroup
		connected = make([]net.Conn, n)
	)
	ready.Add(n)
	for i := range n {
		conn, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		connected[i] = conn
		fmt.Fprintf(conn, "GET /notifications/stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
		wg.Go(func() {
			r := bufio.NewReader(conn)
			signalled := false
			for {
				line, err := r.ReadBytes('\n')
				if err != nil {
					return
				}
				if !signalled && bytes.HasPrefix(line, []byte("retry:")) {
					signalled = true
					ready.Done()
				}
				if bytes.HasPrefix(line, []byte("event: notification")) {
					mu.Lock()
					arrivals = append(arrivals, time.Now())
					mu.Unlock()
					return
				}
			}
		})
	}
	ready.Wait()
	after := serverMemory(t, nd)
	if settle, _ := time.ParseDuration(os.Getenv("BEACON_MEASURE_SETTLE")); settle > 0 {
		// The runtime shrinks idle goroutines' stacks at garbage
		// collections, which an idle server has every two minutes: this is
		// what the streams cost in the steady state.
		logMemory(t, "at once", n, before, after)
		time.Sleep(settle)
		after = serverMemory(t, nd)
		t.Logf("after %v:", settle)
	}

	posted := time.Now()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/notifications", strings.NewReader(`{"title":"measure"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("post: %v %v", resp, err)
	}
	resp.Body.Close()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
	}
	for _, c := range connected {
		c.Close()
	}
	<-done

	var lat []time.Duration
	for _, a := range arrivals {
		lat = append(lat, a.Sub(posted))
	}
	slices.Sort(lat)
	if len(lat) == 0 {
		t.Fatal("no stream received the notification")
	}
	t.Logf("streams: %d, received: %d, lost: %d", n, len(lat), n-len(lat))
	if len(lat) != n {
		t.Errorf("%d streams missed the notification", n-len(lat))
	}
	logMemory(t, "", n, before, after)
	t.Logf("post → frame read (includes the API call and the insert): p50 %v, p99 %v, max %v",
		lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1])
}

func logMemory(t *testing.T, when string, n int, before, after map[string]float64) {
	for _, k := range []string{"heap", "stack", "rss"} {
		t.Logf("%s server %s: %.0f KiB before, %.0f KiB with streams: %.2f KiB per stream",
			when, k, before[k]/1024, after[k]/1024, (after[k]-before[k])/1024/float64(n))
	}
}

var metricLine = regexp.MustCompile(`(?m)^(go_memstats_heap_inuse_bytes|go_memstats_stack_inuse_bytes|process_resident_memory_bytes) (\S+)$`)

// serverMemory reads the server's heap, stack and resident memory from
// its /metrics.
func serverMemory(t *testing.T, nd *node) map[string]float64 {
	t.Helper()
	resp, err := nd.getMetrics()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := map[string]float64{}
	names := map[string]string{"go_memstats_heap_inuse_bytes": "heap", "go_memstats_stack_inuse_bytes": "stack", "process_resident_memory_bytes": "rss"}
	for _, m := range metricLine.FindAllStringSubmatch(string(b), -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		out[names[m[1]]] = v
	}
	return out
}
