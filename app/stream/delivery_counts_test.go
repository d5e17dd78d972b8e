package stream_test

import (
	"context"
	"testing"
	"time"

	"beacon/app/stream"
)

// deliveries is how many live deliveries the store holds for each id.
func deliveries(t *testing.T, r *rig, ids ...int64) []int64 {
	t.Helper()
	out := make([]int64, len(ids))
	for i, id := range ids {
		n, err := r.store.NotificationByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = n.Deliveries
	}
	return out
}

// readAll has every stream read each of ids, in order.
func readAll(t *testing.T, streams []*sseClient, ids ...int64) {
	t.Helper()
	for _, s := range streams {
		for _, id := range ids {
			if got := s.nextID(t); got != id {
				t.Fatalf("stream got %d, want %d", got, id)
			}
		}
	}
}

// The hub writes its delivery counts together, while it runs: each
// notification's count becomes the number of real streams that got it.
func TestDeliveryCountsAreWrittenWhileTheHubRuns(t *testing.T) {
	r := newRig(t, stream.Options{Heartbeat: time.Hour, CountEvery: 20 * time.Millisecond})
	srv := serveStreams(t, r, nil, nil)
	streams := []*sseClient{openSSE(t, srv.URL, ""), openSSE(t, srv.URL, ""), openSSE(t, srv.URL, "")}
	a, b := r.post(t, "one"), r.post(t, "two")
	readAll(t, streams, a, b)
	waitUntil(t, "counted", func() bool {
		got := deliveries(t, r, a, b)
		return got[0] == 3 && got[1] == 3
	})
	// A stream that joins later adds its own delivery to the next one only.
	late := openSSE(t, srv.URL, "")
	c := r.post(t, "three")
	readAll(t, append(streams, late), c)
	waitUntil(t, "counted", func() bool {
		got := deliveries(t, r, a, b, c)
		return got[0] == 3 && got[1] == 3 && got[2] == 4
	})
}

// What the hub counted but had not written yet is written as it stops:
// with writes an hour apart, only that last one can make the counts right.
func TestDeliveryCountsAreWrittenWhenTheHubStops(t *testing.T) {
	r := newRig(t, stream.Options{Heartbeat: time.Hour, CountEvery: time.Hour})
	srv := serveStreams(t, r, nil, nil)
	streams := []*sseClient{openSSE(t, srv.URL, ""), openSSE(t, srv.URL, "")}
	a, b := r.post(t, "one"), r.post(t, "two")
	readAll(t, streams, a, b)
	if got := deliveries(t, r, a, b); got[0] != 0 || got[1] != 0 {
		t.Fatalf("counts written before the hub stopped: %v", got)
	}
	r.stop(t)
	if got := deliveries(t, r, a, b); got[0] != 2 || got[1] != 2 {
		t.Fatalf("deliveries after the hub stopped: %v, want [2 2]", got)
	}
}
