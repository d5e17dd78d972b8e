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
	for !n.issued() {
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

// Publishes that come together, as the posts of one group do once it
// commits, share one NOTIFY when they come before it is issued: the
// first lets the others run before it sends. Without that, the first
// sends its own and the rest share the next: two for every group.
func TestPublishesComingTogetherShareOneNotify(t *testing.T) {
	var n notifier
	var sends atomic.Int64
	send := func() error {
		sends.Add(1)
		return nil
	}
	const publishes = 20
	shared := 0
	for range 20 {
		sends.Store(0)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range publishes {
			wg.Go(func() {
				<-start
				if err := n.notify(send); err != nil {
					t.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
		if sends.Load() == 1 {
			shared++
		}
	}
	if shared == 0 {
		t.Fatal("in 20 tries, 20 publishes coming together never shared one NOTIFY")
	}
	t.Logf("%d of 20 tries shared one NOTIFY", shared)
}

// issued reports whether a NOTIFY is under way and was issued: a publish
// coming now waits for the next.
func (n *notifier) issued() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.sending && n.open == nil
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
