package broker

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// Publishes that come while a NOTIFY is under way share the next one: 50
// of them cost one more NOTIFY, not 50, and each returns only once a
// NOTIFY that began after it was called is done.
func TestPublishesWaitingShareTheNextNotify(t *testing.T) {
	var n notifier
	var sends, running atomic.Int64
	send := func() error {
		if running.Add(1) != 1 {
			t.Error("two NOTIFYs at once")
		}
		sends.Add(1)
		running.Add(-1)
		return nil
	}
	release := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- n.notify(func() error {
			<-release
			return send()
		})
	}()
	for !n.busy() {
		runtime.Gosched()
	}
	const publishes = 50
	var wg sync.WaitGroup
	for range publishes {
		wg.Go(func() {
			if err := n.notify(send); err != nil {
				t.Error(err)
			}
		})
	}
	for n.waiting() < publishes {
		runtime.Gosched() // they join within microseconds
	}
	close(release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if got := sends.Load(); got != 2 {
		t.Fatalf("%d NOTIFYs for 1 + %d publishes, want 2: the one under way and the one they share", got, publishes)
	}
	// Idle again: the next publish sends its own at once.
	if err := n.notify(send); err != nil || sends.Load() != 3 || n.busy() {
		t.Fatalf("a publish after: %v, %d sends, busy %v", err, sends.Load(), n.busy())
	}
}

// Many publishers at once, no send ever concurrent with another, and no
// publish returning before a send that started after it was called.
func TestEveryPublishIsCoveredByALaterNotify(t *testing.T) {
	var n notifier
	var started, finished, running atomic.Int64
	send := func() error {
		if running.Add(1) != 1 {
			t.Error("two NOTIFYs at once")
		}
		i := started.Add(1)
		runtime.Gosched()
		finished.Store(i)
		running.Add(-1)
		return nil
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 200 {
				before := started.Load()
				if err := n.notify(send); err != nil {
					t.Error(err)
					return
				}
				if finished.Load() <= before {
					t.Errorf("a publish returned with sends through %d done, none started after it (%d had)", finished.Load(), before)
					return
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d NOTIFYs for %d publishes", started.Load(), 16*200)
}

// busy reports whether a NOTIFY is under way or handed on.
func (n *notifier) busy() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.sending
}

// waiting is how many publishes wait for the next NOTIFY.
func (n *notifier) waiting() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.next == nil {
		return 0
	}
	return n.next.waiters
}
