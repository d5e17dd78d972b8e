package cluster

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"os"
	"os/exec"
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
// BEACON_MEASURE_INSTANCES (default 1,2,3; "sqlite" is one instance on a
// SQLite file), BEACON_MEASURE_RATES (posts/s, default 100,200,400,800,1600;
// 0 posts as fast as the posters can), BEACON_MEASURE_SECONDS (per step,
// default 5), BEACON_MEASURE_POSTERS (concurrent API calls, default 32),
// BEACON_MEASURE_BATCH (notifications per call of the batch endpoint;
// default 1, the single POST) and BEACON_MEASURE_PARAMS (added to
// DATABASE_URL: "synchronous_commit=off") change it. The issue's
// targets, as fast as 64 posters can and at 1,000/s:
//
//	BEACON_MEASURE_PUBLISH=1 BEACON_MEASURE_INSTANCES=1,2,sqlite BEACON_MEASURE_RATES=0,1000 \
//	    BEACON_MEASURE_POSTERS=64 BEACON_MEASURE_SECONDS=10 go test -run MeasurePublishRate -v -timeout 30m ./app/cluster/
func TestMeasurePublishRate(t *testing.T) {
	if os.Getenv("BEACON_MEASURE_PUBLISH") == "" {
		t.Skip("set BEACON_MEASURE_PUBLISH=1 to measure the sustained publish rate on PostgreSQL")
	}
	instances := strings.Split(cmp.Or(os.Getenv("BEACON_MEASURE_INSTANCES"), "1,2,3"), ",")
	rates := envInts(t, "BEACON_MEASURE_RATES", "100,200,400,800,1600", 0)
	seconds := envInts(t, "BEACON_MEASURE_SECONDS", "5", 1)[0]
	posters := envInts(t, "BEACON_MEASURE_POSTERS", "32", 1)[0]
	batch := envInts(t, "BEACON_MEASURE_BATCH", "1", 1)[0]
	t.Logf("posters %d, notifications per call %d, %ds a step, 20 streams", posters, batch, seconds)
	t.Logf("instances | offered/s | achieved/s | publish p50 / p99 | delivery from schedule p99 | lost | beacon CPU s | postgres CPU s | bench CPU s | waits (share of active samples)")
	for _, inst := range instances {
		inst = strings.TrimSpace(inst)
		tg := startTarget(t, inst, os.Getenv("BEACON_MEASURE_PARAMS"))
		for _, rate := range rates {
			var sampler *waitSampler
			if tg.appName != "" {
				sampler = startWaitSampler(t, tg.appName)
			}
			beaconCPU, pgCPU := cpuSeconds(tg.pids), cpuSeconds(postgresPIDs())
			opts := bench.Options{
				URL: tg.urls[0], PublishURL: strings.Join(tg.urls, ","), SSEClients: 20,
				Messages: rate * seconds, Rate: float64(rate), Publishers: posters, Batch: batch,
				Hold: 10 * time.Second, Timeout: time.Duration(seconds)*time.Second*10 + 30*time.Second,
				Token: tg.token,
			}
			if rate == 0 {
				opts.Duration = time.Duration(seconds) * time.Second
			}
			rep, err := bench.Run(t.Context(), opts)
			waits := "-"
			if sampler != nil {
				waits = sampler.stop()
			}
			if err != nil {
				t.Fatal(err)
			}
			s := rep.SSE
			offered := strconv.Itoa(rate)
			if rate == 0 {
				offered = "as fast as it goes"
			}
			t.Logf("%s | %s | %.0f | %.1f / %.1f ms | %.0f ms | %d | %.1f | %.1f | %.1f | %s",
				inst, offered, rep.PostsPerSecond, s.PublishCall.P50, s.PublishCall.P99, s.FromSchedule.P99, s.Lost,
				cpuSeconds(tg.pids)-beaconCPU, cpuSeconds(postgresPIDs())-pgCPU, rep.ClientCPURunSeconds, waits)
			if s.PublishFailures > 0 || s.Disconnects > 0 || len(s.Errors) > 0 {
				t.Logf("  %d posts failed, %d streams ended early: %v", s.PublishFailures, s.Disconnects, s.Errors)
			}
		}
	}
}

// target is what a measurement posts to: its instances' base URLs and
// processes, an admin's API token, and on PostgreSQL the application_name
// of its connections.
type target struct {
	urls    []string
	pids    []int
	token   string
	appName string
	dbURL   string // DATABASE_URL, on SQLite when env set it
}

// startTarget starts n instances on one PostgreSQL schema, or with
// "sqlite" one on a SQLite file.
func startTarget(t *testing.T, instances, params string, env ...string) target {
	t.Helper()
	if instances == "sqlite" {
		nd := startOnSQLite(t, env...)
		create := exec.Command(nd.cmd.Path, "token", "create", "ops@example.com")
		create.Env = nd.cmd.Env
		out, err := create.Output()
		if err != nil {
			t.Fatalf("token create: %v", err)
		}
		tg := target{urls: []string{nd.base}, pids: []int{nd.cmd.Process.Pid}, token: strings.TrimSpace(string(out))}
		for _, e := range env {
			if v, ok := strings.CutPrefix(e, "DATABASE_URL="); ok {
				tg.dbURL = v
			}
		}
		return tg
	}
	n, err := strconv.Atoi(instances)
	if err != nil || n <= 0 {
		t.Fatalf("BEACON_MEASURE_INSTANCES: %q is neither a count nor sqlite", instances)
	}
	c := startClusterWith(t, n, params, env...)
	tg := target{token: c.token, appName: c.appName, dbURL: c.url}
	for _, nd := range c.nodes {
		tg.urls = append(tg.urls, nd.base)
		tg.pids = append(tg.pids, nd.cmd.Process.Pid)
	}
	return tg
}

// envInts reads a comma-separated list of integers of at least least.
func envInts(t *testing.T, name, def string, least int) []int {
	t.Helper()
	v := cmp.Or(os.Getenv(name), def)
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < least {
			t.Fatalf("%s=%q: want integers of at least %d, comma-separated", name, v, least)
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
