package bench_test

import (
	"testing"
	"time"

	"beacon/app/apptest"
	"beacon/app/bench"
)

// A small storm against the real app: 200 streams come back at once with a
// Last-Event-ID from before 30 notifications; each gets every one once,
// and the server's query count is read through /metrics.
func TestBenchStormSmoke(t *testing.T) {
	env := map[string]string{"METRICS_TOKEN": "s3cret-metrics"}
	for k, v := range unlimited {
		env[k] = v
	}
	app := apptest.New(t, apptest.Options{Env: env})
	admin := app.CreateUser(t, "Ops", "ops@example.com", "correct horse", true)
	rep, err := bench.Run(t.Context(), bench.Options{
		URL: app.URL, SSEClients: 200, Messages: 30, Storm: true, MetricsToken: "s3cret-metrics",
		Hold: 10 * time.Second, Timeout: 30 * time.Second, Token: app.Token(t, admin),
	})
	if err != nil {
		t.Fatal(err)
	}
	logReport(t, rep)
	s, st := rep.SSE, rep.Storm
	if rep.TimedOut || s.Connected != 200 || s.ConnectFailures != 0 || s.Published != 30 || s.PublishFailures != 0 {
		t.Fatalf("connected %d (%d failed), published %d (%d failed), timed out %v: %v",
			s.Connected, s.ConnectFailures, s.Published, s.PublishFailures, rep.TimedOut, s.Errors)
	}
	if s.Delivered != 200*30 || s.Lost != 0 || s.Duplicates != 0 || s.Disconnects != 0 {
		t.Fatalf("delivered %d, lost %d, duplicates %d, disconnects %d", s.Delivered, s.Lost, s.Duplicates, s.Disconnects)
	}
	if st == nil || st.ResumeFrom <= 0 || st.Missed != 30 || st.CaughtUp != 200 || st.Resets != 0 ||
		st.CaughtUpSeconds <= 0 || st.CatchUp.Count != 200 || st.CatchUp.Max > st.CaughtUpSeconds*1000+1 {
		t.Fatalf("storm: %+v", st)
	}
	if st.DBQueries < 0 || st.DBQueriesAfter < st.DBQueriesBefore || st.DBQueriesBefore <= 0 {
		t.Fatalf("storm's database statements: %+v", st)
	}
}
