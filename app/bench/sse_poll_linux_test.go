//go:build linux

package bench

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The poller reads streams the way a goroutine per stream does: the bytes
// read with the response first, then frames however the socket cuts them,
// and an end of stream told once.
func TestPollerReadsFramesInOrderAndTellsTheEnd(t *testing.T) {
	p, ended := runPoller(t, 2)

	const streams = 3
	var mu sync.Mutex
	got := make([][]string, streams)
	servers := make([]net.Conn, streams)
	for i := range streams {
		client, server := connPair(t)
		servers[i] = server
		// The response and the first two frames arrive together: the
		// second is left in the buffered reader when the first is parsed.
		if _, err := server.Write([]byte("HTTP/1.1 200 OK\r\n\r\nretry: 2000\n\nid: 1\ndata: a\n\n")); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReaderSize(client, 4096)
		if _, err := br.ReadString('\n'); err != nil { // status line
			t.Fatal(err)
		}
		if _, err := br.ReadString('\n'); err != nil { // end of headers
			t.Fatal(err)
		}
		sr := newSSEReader(br, 8)
		if f, err := sr.Next(); err != nil || f.Retry != 2000 {
			t.Fatalf("first frame %+v, %v", f, err)
		}
		buffered, _ := br.Peek(br.Buffered())
		taken, err := p.add(client, sr, append([]byte(nil), buffered...), func(f sseFrame) {
			mu.Lock()
			got[i] = append(got[i], fmt.Sprintf("%s=%s", f.ID, f.Data))
			mu.Unlock()
		})
		if !taken || err != nil {
			t.Fatalf("add: taken %v, %v", taken, err)
		}
	}
	// A frame cut in three writes, with pauses that let the poller find
	// the socket empty in between, then one more whole.
	for _, part := range []string{"id: 2\nda", "ta: b", "\n\nid: 3\ndata: c\n\n"} {
		for _, s := range servers {
			if _, err := s.Write([]byte(part)); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	want := "[1=a 2=b 3=c]"
	deadline := time.Now().Add(5 * time.Second)
	for i := range streams {
		for {
			mu.Lock()
			s := fmt.Sprint(got[i])
			mu.Unlock()
			if s == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("stream %d got %s, want %s", i, s, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	for _, s := range servers {
		s.Close()
	}
	for i := range streams {
		select {
		case <-ended:
		case <-time.After(5 * time.Second):
			t.Fatalf("%d of %d ends told", i, streams)
		}
	}
	select {
	case <-ended:
		t.Fatal("an end told twice")
	case <-time.After(300 * time.Millisecond):
	}
}

// A stream the server ends right behind its last frames (a slow client cut
// off with data still queued) is read to its end and told as ended: with
// an edge-triggered set, its end comes in the same edge as the data.
func TestPollerSeesTheEndBehindUnreadData(t *testing.T) {
	p, ended := runPoller(t, 1)

	const streams = 10
	var frames atomic.Int64
	var servers []net.Conn
	for range streams {
		client, server := connPair(t)
		servers = append(servers, server)
		sr := newSSEReader(client, 2048)
		if taken, err := p.add(client, sr, nil, func(f sseFrame) {
			if f.Dispatch {
				frames.Add(1)
			}
		}); !taken || err != nil {
			t.Fatalf("add: taken %v, %v", taken, err)
		}
	}
	// More than one read's worth, then the end, in one go.
	burst := []byte(strings.Repeat("data: "+strings.Repeat("x", 500)+"\n\n", 200))
	for _, s := range servers {
		if _, err := s.Write(burst); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	for i := range streams {
		select {
		case <-ended:
		case <-time.After(5 * time.Second):
			t.Fatalf("%d of %d ends told; %d frames read", i, streams, frames.Load())
		}
	}
	if got := frames.Load(); got != streams*200 {
		t.Fatalf("%d frames read, want %d", got, streams*200)
	}
}

// runPoller starts a poller with loops goroutines until the test ends;
// ended hears of each stream that ended.
func runPoller(t *testing.T, loops int) (*ssePoller, <-chan struct{}) {
	t.Helper()
	p, err := newSSEPoller(loops)
	if err != nil {
		t.Fatal(err)
	}
	var stopping atomic.Bool
	ended := make(chan struct{}, 100)
	var running sync.WaitGroup
	for _, l := range p.loops {
		running.Go(func() { l.run(stopping.Load, func() { ended <- struct{}{} }) })
	}
	t.Cleanup(func() { stopping.Store(true); running.Wait() })
	return p, ended
}

// connPair is a loopback TCP connection's two ends, closed when the test
// ends.
func connPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}
