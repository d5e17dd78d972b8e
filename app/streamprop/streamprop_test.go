package streamprop

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"beacon/app/apptest"
	"beacon/app/pgtest"
)

// settings are what a run takes from the environment.
type settings struct {
	// seed fixes the operations, their targets and the clients' drops;
	// not how the goroutines interleave, so a failure that needs a race
	// may take a few runs of the same seed to come back.
	seed uint64
	// scale multiplies the rounds of operations (and adds tabs and
	// visitors). At 1 a run takes seconds; from about 10 clients come
	// back from long absences to replays of hundreds of events, some from
	// the database after a restart (cursors older than the restarted
	// hub's window of 2048 positions). Being reset for more than 1,000
	// events behind takes more notifications than that: about 60.
	scale int
}

func readSettings(t *testing.T) settings {
	t.Helper()
	s := settings{seed: rand.Uint64(), scale: 1}
	if v := os.Getenv("BEACON_PROPERTY_SEED"); v != "" {
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("BEACON_PROPERTY_SEED=%q: %v", v, err)
		}
		s.seed = seed
	}
	if v := os.Getenv("BEACON_PROPERTY_SCALE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("BEACON_PROPERTY_SCALE=%q: want a whole number from 1", v)
		}
		s.scale = n
	}
	return s
}

// TestStreamProperty runs random operations, reconnects and restarts
// against the app, then holds every client's view against the list API
// (see doc.go).
func TestStreamProperty(t *testing.T) {
	s := readSettings(t)
	t.Logf("seed %d, scale %d; repeat with BEACON_PROPERTY_SEED=%d BEACON_PROPERTY_SCALE=%d", s.seed, s.scale, s.seed, s.scale)
	t.Run("sqlite", func(t *testing.T) {
		run(t, s, 1, false, []*apptest.App{apptest.New(t, appOptions(""))})
	})
	t.Run("postgres_two_instances", func(t *testing.T) {
		url := pgtest.URL(t)
		if url == "" {
			t.Skip("PostgreSQL not reachable (pgtest: BEACON_TEST_POSTGRES, default 127.0.0.1:5432): the two-instance variant needs it")
		}
		apps := []*apptest.App{apptest.New(t, appOptions(url)), apptest.New(t, appOptions(url))}
		for _, a := range apps {
			waitListening(t, a)
		}
		run(t, s, 2, true, apps)
	})
}

// appOptions starts an instance on databaseURL ("": a new SQLite file).
// Connection limits are off: a stream closed by a client counts until the
// server notices, and churn must not meet a 429 the test is not about.
func appOptions(databaseURL string) apptest.Options {
	return apptest.Options{
		DatabaseURL: databaseURL,
		Env:         map[string]string{"STREAM_LIMIT_USER": "0", "STREAM_LIMIT_ADDRESS": "0"},
	}
}

// run is one variant: rounds of operations with clients dropping during
// them and now and then an instance restarting after one, then quiet,
// then the checks.
func run(t *testing.T, s settings, variant uint64, shared bool, apps []*apptest.App) {
	began := time.Now()
	w := newWorld(t, s, variant, shared, apps)
	for range w.rounds {
		w.round()
		w.maybeRestart()
		if w.apiErrors > maxAPIErrors {
			t.Fatalf("%d API calls answered unexpectedly: stopping", w.apiErrors)
		}
	}
	w.settle()
	w.verify()
	t.Logf("%d instance(s), %d clients, %d rounds in %v: %s", len(apps), len(w.clients), w.rounds,
		time.Since(began).Round(time.Millisecond), w.summary())
}

// waitListening waits until a PostgreSQL instance's LISTEN connection is
// up, so that no wake-up from the other is missed at the start.
func waitListening(t *testing.T, a *apptest.App) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var h struct {
			Listener struct{ Connected bool }
		}
		resp, err := http.Get(a.URL + "/healthz")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
			if err == nil && h.Listener.Connected {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance at %s: listener not connected within 10s (%v)", a.URL, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
