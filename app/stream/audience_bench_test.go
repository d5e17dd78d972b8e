package stream_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"beacon/app/broker"
	"beacon/app/models"
	"beacon/app/store"
	"beacon/app/stream"
)

// BenchmarkFanoutAudience posts one notification per op to 10,000 streams
// of 1,000 signed-in users (ten tabs each) in 20 groups of 50, addressed
// to everyone, to the 20 groups, or to the 1,000 users by name: each
// stream sees every post, so the three differ only in the audience rule
// and in what each viewer is told of the audience (one view for everyone,
// one per group, one per user; half the streams ask for every field, half
// for the feed page's {"id","html"}, which is the same in every view). It
// reports the fan-out latency (publish
// after commit → frame written) at p50 and p99, and frames lost.
//
//	go test -run '^$' -bench FanoutAudience -benchtime 20x ./app/stream/
func BenchmarkFanoutAudience(b *testing.B) {
	const users, tabs, groups = 1000, 10, 20
	r := newRig(b, stream.Options{Heartbeat: time.Hour})
	ctx := context.Background()
	var ids []int64
	var emails []string
	for i := range users {
		u := models.User{Name: fmt.Sprint("u", i), Email: fmt.Sprintf("u%d@example.com", i), PasswordHash: "x"}
		if err := r.store.CreateUser(ctx, &u); err != nil {
			b.Fatal(err)
		}
		ids, emails = append(ids, u.ID), append(emails, u.Email)
	}
	var groupNames []string
	for g := range groups {
		name := fmt.Sprint("g", g)
		if _, err := r.store.CreateGroup(ctx, name, false); err != nil {
			b.Fatal(err)
		}
		if _, err := r.store.AddGroupMembers(ctx, name, emails[g*users/groups:(g+1)*users/groups]); err != nil {
			b.Fatal(err)
		}
		groupNames = append(groupNames, "group:"+name)
	}
	audiences := map[string]store.Addressed{"everyone": {}}
	for name, to := range map[string][]string{"groups": groupNames, "users": emails} {
		a, err := r.store.Address(ctx, to)
		if err != nil {
			b.Fatal(err)
		}
		audiences[name] = a
	}

	n := users * tabs
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
	sctx, cancel := context.WithCancel(ctx)
	for i := range n {
		w := &fanoutWriter{header: http.Header{}, want: &want, published: &published, done: done}
		writers[i] = w
		uid := ids[i%users]
		// Half ask for every field, half for {"id","html"} as the feed page does.
		fields := []stream.Fields{stream.AllFields, stream.HTMLFields}[i%2]
		streams.Go(func() { _ = r.hub.Stream(sctx, w, stream.Request{UserID: uid, Fields: fields}) })
	}
	for r.hub.Subscribers() < n {
		time.Sleep(time.Millisecond)
	}
	// Subscribed is not yet started: a stream whose start (its unread
	// count, on 10,000 streams at once) is still under way begins after a
	// post made meanwhile, as a new client does. Wait until every stream
	// has had one.
	for started := false; !started; {
		warm := &models.Notification{Title: "warm-up", Level: "info"}
		if _, err := r.store.CreateOrReplaceNotification(ctx, warm); err != nil {
			b.Fatal(err)
		}
		want.Store(warm.ID)
		got.Store(0)
		if err := r.broker.Publish(ctx, broker.NotificationsTopic); err != nil {
			b.Fatal(err)
		}
		select {
		case <-all:
			started = true
		case <-time.After(5 * time.Second):
		}
	}
	runtime.GC()
	b.Cleanup(func() {
		cancel()
		streams.Wait()
	})

	for _, to := range []string{"everyone", "groups", "users"} {
		b.Run("to="+to, func(b *testing.B) {
			for _, w := range writers {
				w.latencies = w.latencies[:0]
			}
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				note := &models.Notification{Title: fmt.Sprint("bench ", to, " ", i), Body: "fan-out", Level: "info"}
				audiences[to].Apply(note)
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
				case <-time.After(60 * time.Second):
					b.Fatalf("only %d of %d streams got notification %d", got.Load(), n, note.ID)
				}
			}
			b.StopTimer()
			var latencies []time.Duration
			for _, w := range writers {
				latencies = append(latencies, w.latencies...)
			}
			slices.Sort(latencies)
			b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(b.N*n-len(latencies)), "lost")
		})
	}
}
