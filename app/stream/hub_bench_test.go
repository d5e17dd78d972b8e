package stream_test

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"beacon/app/broker"
	"beacon/app/models"
	"beacon/app/stream"
)

// fanoutWriter stands in for a browser's connection: it records when the
// awaited notification's frame reached it, in a slot of its own so the
// measurement adds no lock of its own.
type fanoutWriter struct {
	header    http.Header
	want      *atomic.Int64 // the id the benchmark is waiting for
	published *atomic.Int64 // when it was published, in UnixNano
	latencies []time.Duration
	done      func()
}

func (w *fanoutWriter) Header() http.Header { return w.header }
func (w *fanoutWriter) WriteHeader(int)     {}
func (w *fanoutWriter) Flush()              {}
func (w *fanoutWriter) Write(p []byte) (int, error) {
	if rest, ok := bytes.CutPrefix(p, []byte("id: ")); ok {
		end := bytes.IndexByte(rest, '\n')
		if id, err := strconv.ParseInt(string(rest[:end]), 10, 64); err == nil && id == w.want.Load() {
			w.latencies = append(w.latencies, time.Duration(time.Now().UnixNano()-w.published.Load()))
			w.done()
		}
	}
	return len(p), nil
}

// BenchmarkFanout posts one notification per op to N open streams and
// reports the fan-out latency (publish after commit → frame written) at
// p50 and p99, the memory each stream holds, and frames lost.
//
//	go test -run '^$' -bench Fanout -benchmem ./app/stream/
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) { benchFanout(b, n) })
	}
}

func benchFanout(b *testing.B, n int) {
	r := newRig(b, stream.Options{Heartbeat: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	var (
		want, published, got atomic.Int64
		all                  = make(chan struct{}, 1)
		streams              sync.WaitGroup
		writers              = make([]*fanoutWriter, n)
	)
	done := func() {
		if got.Add(1) == int64(n) {
			all <- struct{}{}
		}
	}

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range n {
		w := &fanoutWriter{header: http.Header{}, want: &want, published: &published, done: done}
		writers[i] = w
		streams.Go(func() { _ = r.hub.Stream(ctx, w, stream.Request{}) })
	}
	for r.hub.Subscribers() < n {
		time.Sleep(time.Millisecond)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	perStream := float64(int64(after.HeapInuse+after.StackInuse)-int64(before.HeapInuse+before.StackInuse)) / float64(n)

	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		note := &models.Notification{Title: fmt.Sprint("bench ", i), Body: "fan-out", Level: "info"}
		if _, err := r.store.CreateOrReplaceNotification(ctx, note); err != nil {
			b.Fatal(err)
		}
		want.Store(note.ID)
		got.Store(0)
		b.StartTimer()
		published.Store(time.Now().UnixNano())
		if err := r.broker.Publish(ctx, broker.NotificationsTopic); err != nil {
			b.Fatal(err)
		}
		select {
		case <-all:
		case <-time.After(30 * time.Second):
			b.Fatalf("only %d of %d streams got notification %d", got.Load(), n, note.ID)
		}
	}
	b.StopTimer()
	cancel()
	streams.Wait()

	var latencies []time.Duration
	for _, w := range writers {
		latencies = append(latencies, w.latencies...)
	}
	slices.Sort(latencies)
	lost := b.N*n - len(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(perStream, "B/stream")
	b.ReportMetric(float64(lost), "lost")
}

// BenchmarkFanoutSockets posts one notification per op to N streams taken
// over by the hub, each a real loopback TCP connection read by a client
// goroutine, and waits until every client has read it. It reports the
// wall time per delivery (server and clients share the cores, as in
// `beacon bench`) and the frame bytes each client read. Profile the
// server's part with -cpuprofile and `go tool pprof -top -focus stream`.
//
//	go test -run '^$' -bench FanoutSockets -benchmem ./app/stream/
func BenchmarkFanoutSockets(b *testing.B) {
	for _, n := range []int{2000} {
		for _, fields := range []string{"", "html"} {
			name := fmt.Sprintf("subscribers=%d/fields=%s", n, cmp.Or(fields, "all"))
			b.Run(name, func(b *testing.B) { benchFanoutSockets(b, n, fields) })
		}
	}
}

func benchFanoutSockets(b *testing.B, n int, fields string) {
	r := newRig(b, stream.Options{Heartbeat: time.Hour})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		f, err := stream.ParseFields(req.URL.Query().Get("fields"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_ = r.hub.Stream(req.Context(), w, stream.Request{Fields: f, Request: req})
	}))
	b.Cleanup(srv.Close)

	var (
		want    atomic.Int64
		got     atomic.Int64
		all     = make(chan struct{}, 1)
		read    atomic.Int64
		clients sync.WaitGroup
		conns   []net.Conn
	)
	request := "GET /?fields=" + fields + " HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n"
	for range n {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, conn)
		if _, err := io.WriteString(conn, request); err != nil {
			b.Fatal(err)
		}
		br := bufio.NewReaderSize(conn, 4096)
		// Headers and the retry frame, before the next client connects:
		// then every stream is subscribed before the first publish.
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				b.Fatal(err)
			}
			if bytes.HasPrefix(line, []byte("retry: ")) {
				break
			}
		}
		clients.Go(func() {
			var total int64
			defer func() { read.Add(total) }()
			for {
				line, err := br.ReadSlice('\n')
				total += int64(len(line))
				if err != nil {
					return
				}
				if rest, ok := bytes.CutPrefix(line, []byte("id: ")); ok {
					id, _ := strconv.ParseInt(string(bytes.TrimSpace(rest)), 10, 64)
					if id == want.Load() && got.Add(1) == int64(n) {
						all <- struct{}{}
					}
				}
			}
		})
	}
	waitFor := func() {
		for r.hub.Subscribers() < n {
			time.Sleep(time.Millisecond)
		}
	}
	waitFor()

	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		// Past the hub's gap between two writes to one connection (50 ms),
		// as at 1 msg/s: each op is then one write per stream.
		time.Sleep(60 * time.Millisecond)
		note := &models.Notification{Title: fmt.Sprint("bench:run:", i, ":1764589705406000000:1764589705406123456"), Body: "beacon bench", Level: "info"}
		if _, err := r.store.CreateOrReplaceNotification(ctx, note); err != nil {
			b.Fatal(err)
		}
		want.Store(note.ID)
		got.Store(0)
		b.StartTimer()
		if err := r.broker.Publish(ctx, broker.NotificationsTopic); err != nil {
			b.Fatal(err)
		}
		select {
		case <-all:
		case <-time.After(30 * time.Second):
			b.Fatalf("only %d of %d streams got notification %d", got.Load(), n, note.ID)
		}
	}
	b.StopTimer()
	ops := b.N
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(ops*n), "ns/delivery")
	r.stop(b)
	for _, c := range conns {
		c.Close()
	}
	clients.Wait()
	b.ReportMetric(float64(read.Load())/float64(ops*n), "B/delivery")
}
