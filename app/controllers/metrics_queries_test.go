package controllers_test

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"beacon/app/apptest"
)

// /metrics counts the database's statements: a request that reads the
// database moves beacon_db_queries_total on, and the figure is the store's.
func TestMetricsCountDatabaseQueries(t *testing.T) {
	app := apptest.New(t, apptest.Options{Env: map[string]string{"METRICS_TOKEN": "s3cret-metrics"}})
	read := func() int64 {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, app.URL+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer s3cret-metrics")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "beacon_db_queries_total "); ok {
				n, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatalf("beacon_db_queries_total %q: %v", v, err)
				}
				return int64(n)
			}
		}
		t.Fatalf("/metrics has no beacon_db_queries_total:\n%.1000s", b)
		return 0
	}
	first := read()
	if first <= 0 || first > app.Store.Queries() {
		t.Fatalf("beacon_db_queries_total %d, the store counted %d (the hub's start read the database)", first, app.Store.Queries())
	}
	if resp, _ := app.Client(t).Get(t, "/api/notifications?after=0"); resp.StatusCode != http.StatusOK {
		t.Fatalf("list: %d", resp.StatusCode)
	}
	if second := read(); second <= first {
		t.Fatalf("a list request left beacon_db_queries_total at %d (was %d)", second, first)
	}
}
