package cluster

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"beacon/app/bench"
)

// TestMeasurePublishRate finds the sustained publish rate one PostgreSQL
// carries with 1, 2 and 3 instances: posts through every instance's API in
// turn, by concurrent posters, at rising rates, with streams on the first
// instance to see each post delivered. It samples what the database's
// active connections wait on, to tell what binds first. A measurement, not
// a check, so it runs only when asked:
//
//	BEACON_MEASURE_PUBLISH=1 go test -run MeasurePublishRate -v -timeout 30m ./app/cluster/
//
// BEACON_MEASURE_INSTANCES (default 1,2,3), BEACON_MEASURE_RATES (posts/s,
// default 100,200,400,800,1600), BEACON_MEASURE_SECONDS (per step, default
// 5), BEACON_MEASURE_POSTERS (concurrent API calls, default 32) and
// BEACON_MEASURE_PARAMS (added to DATABASE_URL: "synchronous_commit=off")
// change it.
func TestMeasurePublishRate(t *testing.T) {
	if os.Getenv("BEACON_MEASURE_PUBLISH") == "" {
		t.Skip("set BEACON_MEASURE_PUBLISH=1 to measure the sustained publish rate on PostgreSQL")
	}
	instances := envInts(t, "BEACON_MEASURE_INSTANCES", "1,2,3")
	rates := envInts(t, "BEACON_MEASURE_RATES", "100,200,400,800,1600")
	seconds := envInts(t, "BEACON_MEASURE_SECONDS", "5")[0]
	posters := envInts(t, "BEACON_MEASURE_POSTERS", "32")[0]
	t.Logf("instances | offered/s | achieved/s | publish p50 / p99 | delivery from schedule p99 | lost | beacon CPU s | postgres CPU s | waits (share of active samples)")
	for _, n := range instances {
		c := startClusterWith(t, n, os.Getenv("BEACON_MEASURE_PARAMS"))
		urls := make([]string, n)
		pids := make([]int, n)
		for i, nd := range c.nodes {
			urls[i] = nd.base
			pids[i] = nd.cmd.Process.Pid
		}
		for _, rate := range rates {
			sampler := startWaitSampler(t, c.appName)
			beaconCPU, pgCPU := cpuSeconds(pids), cpuSeconds(postgresPIDs())
			rep, err := bench.Run(t.Context(), bench.Options{
				URL: urls[0], PublishURL: strings.Join(urls, ","), SSEClients: 20,
				Messages: rate * seconds, Rate: float64(rate), Publishers: posters,
				Hold: 10 * time.Second, Timeout: time.Duration(seconds)*time.Second*10 + 30*time.Second,
				Token: c.token,
			})
			waits := sampler.stop()
			if err != nil {
				t.Fatal(err)
			}
			s := rep.SSE
			achieved := 0.0
			if rep.PublishSeconds > 0 {
				achieved = float64(s.Published) / rep.PublishSeconds
			}
			t.Logf("%d | %d | %.0f | %.1f / %.1f ms | %.0f ms | %d | %.1f | %.1f | %s",
				n, rate, achieved, s.PublishCall.P50, s.PublishCall.P99, s.FromSchedule.P99, s.Lost,
				cpuSeconds(pids)-beaconCPU, cpuSeconds(postgresPIDs())-pgCPU, waits)
			if s.PublishFailures > 0 || s.Disconnects > 0 || len(s.Errors) > 0 {
				t.Logf("  %d posts failed, %d streams ended early: %v", s.PublishFailures, s.Disconnects, s.Errors)
			}
		}
	}
}

func envInts(t *testing.T, name, def string) []int {
	t.Helper()
	v := cmp.Or(os.Getenv(name), def)
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			t.Fatalf("%s=%q: want positive integers, comma-separated", name, v)
		}
		out = append(out, n)
	}
	return out
}

// waitSampler counts, every 20 ms, what this cluster's active database
// connections wait on ("CPU" when they wait on nothing).
type waitSampler struct {
	stopc  chan struct{}
	done   sync.WaitGroup
	counts map[string]int
	total  int
}

func startWaitSampler(t *testing.T, appName string) *waitSampler {
	t.Helper()
	db, err := sql.Open("pgx", cmp.Or(os.Getenv("BEACON_TEST_POSTGRES"), "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"))
	if err != nil {
		t.Fatal(err)
	}
	s := &waitSampler{stopc: make(chan struct{}), counts: map[string]int{}}
	s.done.Go(func() {
		defer db.Close()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-s.stopc:
				return
			case <-tick.C:
			}
			rows, err := db.QueryContext(context.Background(), `SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU'), count(*)
				FROM pg_stat_activity WHERE application_name = $1 AND state = 'active' GROUP BY 1`, appName)
			if err != nil {
				continue
			}
			for rows.Next() {
				var what string
				var n int
				if rows.Scan(&what, &n) == nil {
					s.counts[what] += n
					s.total += n
				}
			}
			rows.Close()
		}
	})
	return s
}

// stop ends the sampling and says the commonest waits, with their shares.
func (s *waitSampler) stop() string {
	close(s.stopc)
	s.done.Wait()
	if s.total == 0 {
		return "none active"
	}
	keys := slices.SortedFunc(maps.Keys(s.counts), func(a, b string) int { return cmp.Compare(s.counts[b], s.counts[a]) })
	var parts []string
	for _, k := range keys[:min(4, len(keys))] {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", k, 100*float64(s.counts[k])/float64(s.total)))
	}
	return strings.Join(parts, ", ")
}

// cpuSeconds is the user+system CPU time of the processes so far.
func cpuSeconds(pids []int) float64 {
	var ticks int64
	for _, pid := range pids {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			continue
		}
		// Fields after the command's closing parenthesis; utime and stime
		// are the 14th and 15th of the whole line.
		rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
		f := strings.Fields(rest)
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + st
	}
	return float64(ticks) / 100 // USER_HZ
}

// postgresPIDs lists the machine's PostgreSQL processes (server and
// backends).
func postgresPIDs() []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err == nil && strings.HasPrefix(string(comm), "postgres") {
			pids = append(pids, pid)
		}
	}
	return pids
}
