package stream

import (
	"context"
	"sync"
	"time"
)

// fanoutWait bounds how long a resume waits for the hub to fan out what it
// was woken for; past it the database replays.
const fanoutWait = time.Second

// fanoutProgress tells whether the hub has fanned out everything it was
// woken for: a resume from the window waits for that, so that a change
// committed (and published) just before a client came back is in the
// window, in its latest state, rather than sent stale and then again.
type fanoutProgress struct {
	mu       sync.Mutex
	heard    uint64        // wake-ups published to this process
	followed uint64        // of those, how many a completed fan-out covered
	changed  chan struct{} // closed and replaced as followed moves
}

func newFanoutProgress() *fanoutProgress {
	return &fanoutProgress{changed: make(chan struct{})}
}

// hear counts a wake-up; the broker calls it as it publishes.
func (p *fanoutProgress) hear() {
	p.mu.Lock()
	p.heard++
	p.mu.Unlock()
}

func (p *fanoutProgress) heardSoFar() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.heard
}

// cover records that a fan-out which began after heard wake-ups is done.
func (p *fanoutProgress) cover(heard uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if heard > p.followed {
		p.followed = heard
		close(p.changed)
		p.changed = make(chan struct{})
	}
}

// awaitFanout waits until every wake-up heard so far has been fanned out;
// false when ctx ends or fanoutWait passes first.
func (p *fanoutProgress) awaitFanout(ctx context.Context) bool {
	p.mu.Lock()
	target := p.heard
	p.mu.Unlock()
	timeout := time.NewTimer(fanoutWait)
	defer timeout.Stop()
	for {
		p.mu.Lock()
		done, changed := p.followed >= target, p.changed
		p.mu.Unlock()
		if done {
			return true
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return false
		case <-timeout.C:
			return false
		}
	}
}
