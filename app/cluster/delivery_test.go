package cluster

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"beacon/app/apptest"
)

// A post through A's API reaches a stream on B and a long poll on C.
func TestClusterPostReachesStreamAndLongPollOnOtherInstances(t *testing.T) {
	c := startCluster(t, 3)
	a, b, cc := c.nodes[0], c.nodes[1], c.nodes[2]
	stream := b.app.Client(t).OpenStream(t, "")
	const after = 0 // a fresh database

	polled := make(chan string, 1)
	go func() {
		resp, err := http.Get(fmt.Sprintf("%s/api/notifications/poll?after=%d&timeout=30", cc.base, after))
		if err != nil {
			polled <- err.Error()
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		polled <- string(body)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for cc.metric("beacon_notification_subscribers") != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the long poll on C is not waiting")
		}
		time.Sleep(10 * time.Millisecond)
	}

	posted := time.Now()
	id := c.mustPost(t, a, "across instances")
	ev := stream.NextEvent(t, 10*time.Second)
	for ev.Event != "notification" || notificationID(t, ev) != id {
		ev = stream.NextEvent(t, 10*time.Second)
	}
	select {
	case body := <-polled:
		var got struct {
			Notifications []struct {
				ID    int64
				Title string
			}
			LastID int64 `json:"last_id"`
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil || len(got.Notifications) != 1 ||
			got.Notifications[0].ID != id || got.LastID != id {
			t.Fatalf("long poll on C answered %s", body)
		}
		// Woken by the NOTIFY, not by the poll's timeout.
		if d := time.Since(posted); d > 10*time.Second {
			t.Fatalf("long poll answered after %v", d)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the long poll on C did not answer")
	}
}

// 640 posts from 64 concurrent posters on two instances, which commit
// them in groups, reach subscribers on both, in position order, each once:
// no position commits behind one a stream has passed.
func TestClusterRacingPostsArriveInOrderOnce(t *testing.T) {
	c := startCluster(t, 2)
	var streams []*apptest.Stream
	for _, nd := range c.nodes {
		for range 2 {
			streams = append(streams, nd.app.Client(t).OpenStream(t, ""))
		}
	}
	const posters, each = 32, 10 // per instance: 640 in all
	var (
		mu     sync.Mutex
		posted []int64
		failed []error
		wg     sync.WaitGroup
	)
	for _, nd := range c.nodes {
		for p := range posters {
			wg.Go(func() {
				for i := range each {
					id, err := c.post(nd, fmt.Sprintf("%s-%d-%d", nd.name, p, i))
					mu.Lock()
					if err != nil {
						failed = append(failed, err)
					} else {
						posted = append(posted, id)
					}
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("%d posts failed: %v", len(failed), failed[0])
	}
	for i, s := range streams {
		got := collect(t, s, len(posted), 60*time.Second)
		checkOnceInOrder(t, fmt.Sprintf("stream %d on %s", i, c.nodes[i/2].name), got, posted)
	}
}
