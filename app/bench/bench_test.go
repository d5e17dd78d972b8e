package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"beacon/app/apptest"
	"beacon/app/bench"
)

// Where a future limit on streams per address or user exists, the smoke
// runs must not meet it.
var unlimited = map[string]string{"STREAM_LIMIT_ADDRESS": "0", "STREAM_LIMIT_USER": "0"}

// A small run of the real tool against the real app: 200 streams, 20
// notifications through the API, every one delivered once to each, with
// the streams on the poller (Linux) and on goroutines of their own.
func TestBenchSSESmoke(t *testing.T) {
	readers := []string{"goroutines"}
	if runtime.GOOS == "linux" {
		readers = append(readers, "poll")
	}
	for _, r := range readers {
		t.Run(r, func(t *testing.T) { benchSSESmoke(t, r) })
	}
}

func benchSSESmoke(t *testing.T, readers string) {
	app := apptest.New(t, apptest.Options{Env: unlimited})
	admin := app.CreateUser(t, "Ops", "ops@example.com", "correct horse", true)
	rep, err := bench.Run(t.Context(), bench.Options{
		URL: app.URL, SSEClients: 200, Messages: 20, Rate: 100,
		Hold: 10 * time.Second, Timeout: 15 * time.Second,
		Token: app.Token(t, admin), PID: os.Getpid(), Readers: readers,
	})
	if err != nil {
		t.Fatal(err)
	}
	logReport(t, rep)
	s := rep.SSE
	if rep.TimedOut || s.Connected != 200 || s.ConnectFailures != 0 || s.Published != 20 || s.PublishFailures != 0 {
		t.Fatalf("connected %d (%d failed), published %d (%d failed), timed out %v: %v",
			s.Connected, s.ConnectFailures, s.Published, s.PublishFailures, rep.TimedOut, s.Errors)
	}
	if s.Expected != 200*20 || s.Delivered != 200*20 || s.Lost != 0 || s.Duplicates != 0 || s.Disconnects != 0 {
		t.Fatalf("expected %d, delivered %d, lost %d, duplicates %d, disconnects %d",
			s.Expected, s.Delivered, s.Lost, s.Duplicates, s.Disconnects)
	}
	if want := map[string]int64{"poll": 200, "goroutines": 0}[readers]; s.Polled != want {
		t.Fatalf("%d streams on the poller, want %d", s.Polled, want)
	}
	if s.FromSend.Count != 200*20 || s.FromSend.P50 <= 0 || s.FromSend.Max < s.FromSend.P99 || s.PublishCall.Count != 20 {
		t.Fatalf("latencies: %+v, publish calls: %+v", s.FromSend, s.PublishCall)
	}
	if rep.Server == nil || rep.Server.RSSBeforeKiB <= 0 || rep.Server.CPURunSeconds < 0 {
		t.Fatalf("server figures: %+v", rep.Server)
	}
}

// The same for chat sockets: 20 clients signed in through the login form,
// 10 messages, every one delivered once to each.
func TestBenchChatSmoke(t *testing.T) {
	app := apptest.New(t, apptest.Options{Env: unlimited, ChatRate: 1000, ChatBurst: 1000})
	app.CreateUser(t, "Bench", "bench@example.com", "correct horse", false)
	rep, err := bench.Run(t.Context(), bench.Options{
		URL: app.URL, ChatClients: 20, Messages: 10, Rate: 50,
		Hold: 10 * time.Second, Timeout: 15 * time.Second,
		Email: "bench@example.com", Password: "correct horse",
	})
	if err != nil {
		t.Fatal(err)
	}
	logReport(t, rep)
	c := rep.Chat
	if rep.TimedOut || c.Connected != 20 || c.Published != 10 || c.PublishFailures != 0 || c.Refused != 0 {
		t.Fatalf("connected %d, published %d (%d failed, %d refused), timed out %v: %v",
			c.Connected, c.Published, c.PublishFailures, c.Refused, rep.TimedOut, c.Errors)
	}
	if c.Expected != 20*10 || c.Delivered != 20*10 || c.Lost != 0 || c.Duplicates != 0 {
		t.Fatalf("expected %d, delivered %d, lost %d, duplicates %d", c.Expected, c.Delivered, c.Lost, c.Duplicates)
	}
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Chat struct {
			Delivered int64 `json:"delivered"`
		} `json:"chat"`
	}
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back.Chat.Delivered != 200 {
		t.Fatalf("JSON report: %v\n%s", err, buf.String())
	}
}

func TestBenchRefusesWhatItShouldNot(t *testing.T) {
	ctx := context.Background()
	if _, err := bench.Run(ctx, bench.Options{URL: "http://192.0.2.1:8080", SSEClients: 1}); !errors.Is(err, bench.ErrRemote) {
		t.Errorf("a remote target: %v", err)
	}
	if _, err := bench.Run(ctx, bench.Options{URL: "http://127.0.0.1:1", PublishURL: "http://192.0.2.1:8080", SSEClients: 1}); !errors.Is(err, bench.ErrRemote) {
		t.Errorf("a remote publish target: %v", err)
	}
	if _, err := bench.Run(ctx, bench.Options{URL: "http://127.0.0.1:1", PublishURL: "http://127.0.0.1:1,http://192.0.2.1:8080", SSEClients: 1}); !errors.Is(err, bench.ErrRemote) {
		t.Errorf("a remote publish target second in the list: %v", err)
	}
	for _, o := range []bench.Options{
		{URL: "http://127.0.0.1:1"},
		{URL: "http://127.0.0.1:1", SSEClients: 1, Messages: 1},
		{URL: "http://127.0.0.1:1", ChatClients: 1},
		{URL: "ftp://127.0.0.1", SSEClients: 1},
	} {
		if _, err := bench.Run(ctx, o); err == nil {
			t.Errorf("%+v ran", o)
		}
	}
}

// A target that refuses connections is a report of failures, not a hang.
// Several publish targets take the posts in turn: with one of two refusing
// connections, every other post fails and the rest are delivered.
func TestBenchPublishesInTurn(t *testing.T) {
	app := apptest.New(t, apptest.Options{Env: unlimited})
	admin := app.CreateUser(t, "Ops", "ops@example.com", "correct horse", true)
	rep, err := bench.Run(t.Context(), bench.Options{
		URL: app.URL, PublishURL: app.URL + ", http://127.0.0.1:1", SSEClients: 5, Messages: 10, Rate: 100,
		Hold: 5 * time.Second, Timeout: 15 * time.Second, Token: app.Token(t, admin),
	})
	if err != nil {
		t.Fatal(err)
	}
	s := rep.SSE
	if s.Published != 5 || s.PublishFailures != 5 || s.Delivered != 5*5 || s.Duplicates != 0 {
		t.Fatalf("published %d (%d failed), delivered %d, duplicates %d: %v",
			s.Published, s.PublishFailures, s.Delivered, s.Duplicates, s.Errors)
	}
}

// --posters N --rate 0 --duration D posts as fast as N calls can until D
// has passed, and every post is delivered.
func TestBenchPostsAsFastAsThePostersCanForADuration(t *testing.T) {
	app := apptest.New(t, apptest.Options{Env: unlimited})
	admin := app.CreateUser(t, "Ops", "ops@example.com", "correct horse", true)
	rep, err := bench.Run(t.Context(), bench.Options{
		URL: app.URL, SSEClients: 3, Rate: 0, Publishers: 4, Duration: 300 * time.Millisecond,
		Hold: 10 * time.Second, Timeout: 20 * time.Second, Token: app.Token(t, admin),
	})
	if err != nil {
		t.Fatal(err)
	}
	logReport(t, rep)
	s := rep.SSE
	if s.Published == 0 || s.PublishFailures != 0 || s.Lost != 0 || s.Delivered != 3*int64(s.Published) || s.Duplicates != 0 {
		t.Fatalf("published %d (%d failed), delivered %d, lost %d, duplicates %d: %v",
			s.Published, s.PublishFailures, s.Delivered, s.Lost, s.Duplicates, s.Errors)
	}
	if rep.PublishSeconds < 0.3 || rep.PublishSeconds > 10 || rep.PostsPerSecond <= 0 || rep.Posters != 4 {
		t.Fatalf("published for %.2fs at %.0f/s by %d posters", rep.PublishSeconds, rep.PostsPerSecond, rep.Posters)
	}
}

// --batch K posts K notifications a call through the batch endpoint, and
// every one is delivered.
func TestBenchPostsInBatches(t *testing.T) {
	app := apptest.New(t, apptest.Options{Env: unlimited})
	admin := app.CreateUser(t, "Ops", "ops@example.com", "correct horse", true)
	rep, err := bench.Run(t.Context(), bench.Options{
		URL: app.URL, SSEClients: 3, Messages: 205, Rate: 0, Publishers: 4, Batch: 50,
		Hold: 10 * time.Second, Timeout: 20 * time.Second, Token: app.Token(t, admin),
	})
	if err != nil {
		t.Fatal(err)
	}
	logReport(t, rep)
	s := rep.SSE
	if s.Published != 205 || s.PublishFailures != 0 || s.Delivered != 3*205 || s.Lost != 0 || s.Duplicates != 0 {
		t.Fatalf("published %d (%d failed), delivered %d, lost %d, duplicates %d: %v",
			s.Published, s.PublishFailures, s.Delivered, s.Lost, s.Duplicates, s.Errors)
	}
	if s.PublishCall.Count != 5 || rep.Batch != 50 || rep.PostsPerSecond <= 0 {
		t.Fatalf("%d calls for 205 in batches of %d, %.0f/s", s.PublishCall.Count, rep.Batch, rep.PostsPerSecond)
	}
}

func TestBenchReportsConnectFailures(t *testing.T) {
	rep, err := bench.Run(t.Context(), bench.Options{URL: "http://127.0.0.1:1", SSEClients: 3, Messages: 0, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if rep.SSE.ConnectFailures != 3 || rep.SSE.Connected != 0 || len(rep.SSE.Errors) != 1 {
		t.Fatalf("%+v", rep.SSE)
	}
}

func logReport(t *testing.T, rep *bench.Report) {
	t.Helper()
	var b strings.Builder
	if err := rep.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + b.String())
}

// Every run ends its goroutines: readers, publishers, connections.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"),
		// scs.New starts a memory store's cleanup loop before the app replaces the store.
		goleak.IgnoreTopFunction("github.com/alexedwards/scs/v2/memstore.(*MemStore).startCleanup"),
	)
}
