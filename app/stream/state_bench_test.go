package stream_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"beacon/app/broker"
	"beacon/app/stream"
)

// BenchmarkStateToTabs changes one person's read state once per op and
// waits until each of their open tabs (streams the hub took over) has its
// `state` event: it reports the latency from the wake-up to the last tab
// at p50 and p99, and the database queries one change costs the hub.
//
//	go test -run '^$' -bench StateToTabs ./app/stream/
func BenchmarkStateToTabs(b *testing.B) {
	for _, tabs := range []int{1, 30} {
		b.Run(fmt.Sprintf("tabs=%d", tabs), func(b *testing.B) { benchStateToTabs(b, tabs) })
	}
}

func benchStateToTabs(b *testing.B, tabs int) {
	r := newRig(b, stream.Options{Heartbeat: time.Hour})
	ann := r.user(b, "ann")
	id := r.post(b, "one")
	var held atomic.Int64
	srv := stateServer(b, r, ann.ID, true, &held)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan struct{}, tabs)
	for range tabs {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		go func() {
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "event: state") {
					got <- struct{}{}
				}
			}
		}()
	}
	for deadline := time.Now().Add(10 * time.Second); held.Load() < int64(tabs); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d streams taken over", held.Load(), tabs)
		}
	}
	var latencies []time.Duration
	var queries int64
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		// Past the writers' gap between two writes to one connection (50
		// ms): a change to a quiet tab, written at once, as a person's
		// clicks are.
		time.Sleep(60 * time.Millisecond)
		change := r.store.MarkRead
		if i%2 == 1 {
			change = r.store.MarkUnread
		}
		if err := change(ctx, ann.ID, id); err != nil {
			b.Fatal(err)
		}
		before := r.store.Queries()
		b.StartTimer()
		start := time.Now()
		if err := r.broker.Publish(ctx, broker.UserTopic(ann.ID)); err != nil {
			b.Fatal(err)
		}
		for range tabs {
			select {
			case <-got:
			case <-time.After(10 * time.Second):
				b.Fatal("a tab had no state event within 10s")
			}
		}
		latencies = append(latencies, time.Since(start))
		queries += r.store.Queries() - before
	}
	b.StopTimer()
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(queries)/float64(b.N), "queries/op")
}
