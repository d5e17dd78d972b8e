package cluster

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"beacon/app/apptest"
)

// Every Beacon connection to PostgreSQL is terminated in the middle of a
// stream of posts: everything posted still arrives, once and in order, and
// live delivery resumes.
func TestClusterSurvivesTerminatedConnections(t *testing.T) {
	c := startCluster(t, 2)
	var streams []*apptest.Stream
	for _, nd := range c.nodes {
		streams = append(streams, nd.app.Client(t).OpenStream(t, ""))
	}
	const total = 80
	var (
		mu      sync.Mutex
		posted  []int64
		failed  int
		halfway = make(chan struct{})
		done    = make(chan struct{})
	)
	go func() {
		defer close(done)
		for i := range total {
			if i == total/2 {
				close(halfway)
			}
			// Failures are expected while the connections are cut.
			id, err := c.post(c.nodes[i%2], fmt.Sprint("post ", i))
			mu.Lock()
			if err != nil {
				failed++
			} else {
				posted = append(posted, id)
			}
			mu.Unlock()
		}
	}()
	<-halfway
	killed := c.terminateBackends(t)
	<-done
	t.Logf("terminated %d connections; %d of %d posts failed meanwhile", killed, failed, total)
	for _, nd := range c.nodes {
		deadline := time.Now().Add(20 * time.Second)
		for nd.metric("beacon_listener_reconnects_total") < 1 || nd.metric("beacon_listener_connected") != 1 {
			if time.Now().After(deadline) {
				t.Fatalf("instance %s's listener did not reconnect", nd.name)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	last := c.mustPost(t, c.nodes[0], "after the failover")
	posted = append(posted, last)
	// The database is the truth: a post whose answer was lost in the cut
	// may still have committed, and then it must arrive too.
	committed := c.notificationIDs(t)
	for _, id := range posted {
		if !slices.Contains(committed, id) {
			t.Fatalf("post %d was answered 201 but is not in the database", id)
		}
	}
	for i, s := range streams {
		checkOnceInOrder(t, fmt.Sprintf("stream on %s", c.nodes[i].name), collectThrough(t, s, last), committed)
	}
}

// A rolling deploy: SIGTERM on A while posts flow through B; A's clients
// reconnect to B and C with Last-Event-ID and miss nothing, see nothing
// twice; A exits 0 within 10 s.
func TestClusterRollingRestartLosesNothing(t *testing.T) {
	c := startCluster(t, 3)
	a := c.nodes[0]
	const clients, total = 4, 60
	streams := make([]*apptest.Stream, clients)
	for i := range streams {
		streams[i] = a.app.Client(t).OpenStream(t, "")
	}
	var (
		mu      sync.Mutex
		posted  []int64
		postErr error
		started = make(chan struct{})
		done    = make(chan struct{})
	)
	go func() {
		defer close(done)
		for i := range total {
			id, err := c.post(c.nodes[1], fmt.Sprint("deploy ", i))
			mu.Lock()
			if err != nil && postErr == nil {
				postErr = err
			}
			posted = append(posted, id)
			mu.Unlock()
			if i == total/3 {
				close(started)
			}
		}
	}()
	<-started
	sigterm := time.Now()
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}

	got := make([][]int64, clients)
	for i, s := range streams {
		for {
			ev, ok := s.Next(t, 15*time.Second)
			if !ok {
				break
			}
			if ev.Event == "notification" {
				got[i] = append(got[i], notificationID(t, ev))
			}
		}
		lastID := ""
		if n := len(got[i]); n > 0 {
			lastID = strconv.FormatInt(got[i][n-1], 10)
		} else {
			t.Fatalf("client %d saw nothing on A before it stopped", i)
		}
		t.Logf("client %d: %d notifications from A before it stopped", i, len(got[i]))
		// Half go to B, half to C, as a load balancer would spread them.
		to := c.nodes[1+i%2]
		streams[i] = to.app.Client(t).OpenStream(t, lastID)
	}
	select {
	case <-a.done:
		if a.err != nil {
			t.Fatalf("A exited with %v", a.err)
		}
		if d := time.Since(sigterm); d > 10*time.Second {
			t.Fatalf("A took %v to exit", d)
		}
	case <-time.After(10*time.Second - time.Since(sigterm)):
		t.Fatal("A did not exit within 10s of SIGTERM")
	}
	<-done
	if postErr != nil {
		t.Fatal(postErr)
	}
	last := posted[len(posted)-1]
	for i, s := range streams {
		got[i] = append(got[i], collectThrough(t, s, last)...)
		checkOnceInOrder(t, fmt.Sprintf("client %d", i), got[i], posted)
	}
}
