package cluster

import (
	"cmp"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"beacon/app/apptest"
	"beacon/app/push/pushtest"
	"beacon/app/store"
	"beacon/migrations"
)

// TestMeasurePush measures one broadcast to N Web Push subscriptions (ten
// per user) against local push services that answer at once: how long
// until the last push arrives, pushes per second, the server's CPU and
// the heap its queue takes; then the same with 1% of the devices on a
// push service that takes 5 s over each push, to see that it does not
// hold up the others. A measurement, not a check, so it runs only when
// asked:
//
//	BEACON_MEASURE_PUSH=10000 go test -run MeasurePush -v -timeout 30m ./app/cluster/
//
// BEACON_MEASURE_INSTANCES picks the targets (default "sqlite,1").
func TestMeasurePush(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("BEACON_MEASURE_PUSH"))
	if n < 100 {
		t.Skip("set BEACON_MEASURE_PUSH=N (at least 100) to measure a broadcast to N push subscriptions")
	}
	for _, inst := range strings.Split(cmp.Or(os.Getenv("BEACON_MEASURE_INSTANCES"), "sqlite,1"), ",") {
		t.Run(inst, func(t *testing.T) { measurePush(t, inst, n) })
	}
}

func measurePush(t *testing.T, inst string, n int) {
	env := []string{"WEBPUSH_ALLOWED_HOSTS=127.0.0.1", "WEBPUSH_DELAY=0s", "WEBPUSH_SUBJECT=mailto:ops@example.com"}
	if inst == "sqlite" {
		env = append(env, "DATABASE_URL="+filepath.Join(t.TempDir(), "beacon.db"))
	}
	tg := startTarget(t, inst, "", env...)
	st, err := store.Open(tg.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	app := apptest.Remote(tg.urls[0], st)
	key := app.PushKey(t)
	fast, slow := pushtest.New(t, key), pushtest.New(t, key)
	fast.CheckEvery(100)
	slow.CheckEvery(100)
	var devices, slowDevices []*pushtest.Device
	for i := range n {
		if i%100 == 99 {
			d := slow.NewDevice(t, fmt.Sprint("d", i))
			devices, slowDevices = append(devices, d), append(slowDevices, d)
		} else {
			devices = append(devices, fast.NewDevice(t, fmt.Sprint("d", i)))
		}
	}
	insertSubscriptions(t, st, devices)

	for _, run := range []struct {
		name  string
		delay time.Duration
	}{{"all answer at once", 0}, {"1% answer after 5s", 5 * time.Second}} {
		for _, d := range slowDevices {
			d.Delay(run.delay)
		}
		before := map[*pushtest.Device]int{}
		for _, d := range devices {
			before[d] = len(d.Received())
		}
		got := func(ds []*pushtest.Device) func() bool {
			return func() bool {
				for _, d := range ds {
					if len(d.Received()) <= before[d] {
						return false
					}
				}
				return true
			}
		}
		var fastDevices []*pushtest.Device
		for _, d := range devices {
			if !slices.Contains(slowDevices, d) {
				fastDevices = append(fastDevices, d)
			}
		}
		heap := sampleHeap(tg.urls[0])
		cpu := cpuSeconds(tg.pids)
		start := time.Now()
		resp, body := app.PostAPI(t, tg.token, map[string]string{"title": "Broadcast: " + run.name, "level": "info"})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("post: %d %s", resp.StatusCode, body)
		}
		if !fast.Wait(5*time.Minute, got(fastDevices)) {
			t.Fatal("the fast devices' pushes did not all arrive in 5 minutes")
		}
		fastTook := time.Since(start)
		if !slow.Wait(5*time.Minute, got(slowDevices)) {
			t.Fatal("the slow devices' pushes did not all arrive in 5 minutes")
		}
		took := time.Since(start)
		used := cpuSeconds(tg.pids) - cpu
		peak, base := heap()
		lost, dup := 0, 0
		for _, d := range devices {
			switch k := len(d.Received()) - before[d]; {
			case k == 0:
				lost++
			case k > 1:
				dup++
			}
		}
		t.Logf("%s, %d subscriptions, %s: the %d fast ones all in %v (%.0f pushes/s), all in %v; server CPU %.2fs (%.0f µs a push); heap %.1f MiB before, peak %.1f MiB; lost %d, duplicated %d",
			inst, n, run.name, len(fastDevices), fastTook.Round(time.Millisecond), float64(len(fastDevices))/fastTook.Seconds(),
			took.Round(time.Millisecond), used, used/float64(n)*1e6, base/(1<<20), peak/(1<<20), lost, dup)
		for _, err := range append(fast.Errors(), slow.Errors()...) {
			t.Error(err)
		}
	}
}

// insertSubscriptions stores the devices as the subscriptions of users
// of ten devices each, straight into the database (a sign-up each would
// spend minutes on password hashing).
func insertSubscriptions(t *testing.T, st *store.Store, devices []*pushtest.Device) {
	t.Helper()
	ph := func(i int) string { return "?" }
	if st.Dialect() == migrations.Postgres {
		ph = func(i int) string { return "$" + strconv.Itoa(i) }
	}
	tx, err := st.SQL().Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	now := time.Now().UTC()
	var userID int64
	for i, d := range devices {
		if i%10 == 0 {
			err := tx.QueryRow(fmt.Sprintf("INSERT INTO users (name, email, password_hash, admin, created_at, updated_at) VALUES (%s, %s, 'x', %s, %s, %s) RETURNING id",
				ph(1), ph(2), ph(3), ph(4), ph(5)), fmt.Sprint("User ", i), fmt.Sprintf("user%d@example.com", i), false, now, now).Scan(&userID)
			if err != nil {
				t.Fatal(err)
			}
		}
		sub := d.Subscription()
		_, err := tx.Exec(fmt.Sprintf("INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at) VALUES (%s, %s, %s, %s, %s)",
			ph(1), ph(2), ph(3), ph(4), ph(5)), userID, sub.Endpoint, sub.Keys.P256dh, sub.Keys.Auth, now)
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// sampleHeap samples the server's heap in use every 50ms until the
// returned function is called, which gives the peak and the first sample.
func sampleHeap(url string) func() (peak, base float64) {
	nd := &node{base: url}
	var mu sync.Mutex
	var peakV, baseV float64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for first := true; ; first = false {
			h := heapInUse(nd)
			mu.Lock()
			if first {
				baseV = h
			}
			peakV = max(peakV, h)
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	return func() (float64, float64) {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return peakV, baseV
	}
}

// heapInUse is the server's go_memstats_heap_inuse_bytes, 0 when /metrics
// does not answer (it may be called off the test's goroutine).
func heapInUse(nd *node) float64 {
	resp, err := nd.getMetrics()
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, m := range metricLine.FindAllStringSubmatch(string(b), -1) {
		if m[1] == "go_memstats_heap_inuse_bytes" {
			v, _ := strconv.ParseFloat(m[2], 64)
			return v
		}
	}
	return 0
}
