// Package stream is the notification stream: the hub that loads each
// change once and fans it out, the Server-Sent Events it serves (replay,
// resume window, take-over, shared writers) and the long poll.
package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"beacon/app/broker"
	"beacon/app/models"
)

// fetchBatch bounds how many rows one query loads, for the hub and replays.
const fetchBatch = 500

// Source is what the hub reads from the database. It follows
// stream positions: every change to a notification (its post, an edit, a
// replacement by key, its withdrawal, its scheduled delivery) takes the
// next one.
type Source interface {
	AllChangesAndWithdrawalsAfter(ctx context.Context, after int64, limit int) ([]models.Notification, error)
	ListAfter(ctx context.Context, userID, after int64, limit int) (models.Replay, error)
	ReplayAfter(ctx context.Context, userID, after int64, limit int) (models.Replay, error)
	LastPosition(ctx context.Context) (int64, error)
	LastVisiblePosition(ctx context.Context, userID int64) (int64, error)
	PrunedThrough(ctx context.Context) (int64, error)
	GroupIDsOf(ctx context.Context, userID int64) ([]int64, error)
	Membership(ctx context.Context, userID int64) (groups []int64, since int64, err error)
	RegroupedBetween(ctx context.Context, after, through int64) ([]models.GroupChange, error)
	AddDeliveryCounts(ctx context.Context, counts map[int64]int64) error
	UnreadCount(ctx context.Context, userID, through int64) (int64, error)
	StateChangesAfter(ctx context.Context, userID, after int64, limit int) ([]models.StateChange, int64, error)
	NotificationStates(ctx context.Context, userID int64, ids []int64) (read, archived []int64, err error)
}

// What no setting reaches: tests alone change them, through Options.
const (
	// streamRetry is the reconnect delay every stream tells EventSource
	// (its first frame, "retry: 2000").
	streamRetry = 2 * time.Second
	// queueSize is how many frames a subscriber may have pending before
	// it is dropped.
	queueSize = 128
)

// Options tune a Hub. Heartbeat is a deployment's setting
// (HEARTBEAT_INTERVAL, whose default is config's) and must be set; Retry,
// QueueSize and CountEvery are for tests, and zero keeps streamRetry,
// queueSize and countEvery.
type Options struct {
	Heartbeat  time.Duration // ": ping" interval
	Retry      time.Duration // EventSource reconnect delay
	QueueSize  int           // frames a subscriber may have pending
	CountEvery time.Duration // how often delivery counts are written
	// ResumeWindow is how many notifications the hub keeps for replays
	// (resume_window.go); 0 keeps resumeWindowSize, < 0 none.
	ResumeWindow int
	// sweepOnly leaves hung-up clients to the sweep, as where there is
	// no hang-up watch (tests).
	sweepOnly bool
}

// Encoder encodes a notification's wire JSON on one line: the
// stream's data field, the same bytes the API sends for it.
type Encoder func(ctx context.Context, n models.Notification) ([]byte, error)

// Hub loads each change once, renders its frame once, and hands
// the same bytes to every subscription allowed to see it.
type Hub struct {
	source     Source
	encodeJSON Encoder
	broker     broker.Subscriber
	log        *slog.Logger
	opts       Options

	wake *broker.Subscription
	// woken fires when wake's callback counted a wake-up: counted first,
	// so a fan-out that starts on it sees the count (see fanoutProgress).
	woken  chan struct{}
	fanout *fanoutProgress // how far the fan-out has followed the wake-ups; see awaitFanout
	cursor int64           // the last position fanned out; only Run touches it after New

	mu     sync.Mutex
	subs   map[*Subscription]struct{}
	conns  map[*streamConn]struct{} // streams taken over from their handlers
	closed bool
	// readyBuf is offer's list of connections to hand to the writers,
	// kept so that a broadcast allocates nothing.
	readyBuf []*streamConn
	// eventBuf is offer's list of one viewer's events, reused (under mu).
	eventBuf []*Event

	// The parts, each owning its state: the hub is the registry of
	// subscribers and the fan-out, and hands them what concerns them.
	writers *connWriters    // write the taken-over connections
	users   *userWatches    // answer wake-ups on their users' topics
	sweep   *connSweep      // find those whose client hung up
	resume  *resumeWindow   // recent changes, replayed without the database
	counts  *deliveryCounts // first deliveries, written once a second
}

// NewHub returns a hub; call Run to start it. It listens to the
// broker before it reads the newest position, so a change committed in
// between is still announced to Run.
func NewHub(ctx context.Context, source Source, encode Encoder, b broker.Subscriber, log *slog.Logger, opts Options) (*Hub, error) {
	if opts.Heartbeat <= 0 {
		return nil, errors.New("notification hub: Options needs a positive Heartbeat")
	}
	if opts.Retry <= 0 {
		opts.Retry = streamRetry
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = queueSize
	}
	if opts.CountEvery <= 0 {
		opts.CountEvery = countEvery
	}
	fanout, woken := newFanoutProgress(), make(chan struct{}, 1)
	wake := b.SubscribeFunc(broker.NotificationsTopic, func() {
		fanout.hear()
		select {
		case woken <- struct{}{}:
		default: // one pending wake-up covers this one
		}
	})
	cursor, err := source.LastPosition(ctx)
	if err != nil {
		wake.Close()
		return nil, fmt.Errorf("notification hub: %w", err)
	}
	var watch *hangupWatch
	if !opts.sweepOnly {
		watch = newHangupWatch() // nil where there is none
	}
	h := &Hub{
		source: source, encodeJSON: encode, broker: b, log: log, opts: opts,
		wake: wake, cursor: cursor,
		woken: woken, fanout: fanout,
		subs:   make(map[*Subscription]struct{}),
		conns:  make(map[*streamConn]struct{}),
		resume: newResumeWindow(ctx, source, cursor, opts.ResumeWindow, log),
		counts: newDeliveryCounts(source, opts.CountEvery, log),
	}
	h.writers = newConnWriters(opts.QueueSize, h.release)
	h.users = newUserWatches(b, source, h, h.release, h.writers.schedule, log)
	h.sweep = newConnSweep(watch, h.release)
	return h, nil
}

// Run delivers notifications until ctx ends, then drops every subscription
// and closes every connection it took over, so that streams end and their
// browsers reconnect elsewhere.
func (h *Hub) Run(ctx context.Context) error {
	defer h.wake.Close()
	var workers sync.WaitGroup
	defer workers.Wait()
	counting := make(chan struct{})
	// After closeAll, so that the streams end first.
	defer h.counts.writeLast(ctx, counting)
	if w := h.sweep.watch; w != nil {
		if err := w.open(); err != nil {
			h.log.Warn("notification hub: hung-up clients are swept instead", "err", err)
		} else {
			// After closeAll, which takes each connection out of its set.
			defer w.close()
			workers.Go(func() {
				if err := w.run(h.sweep.hungUp); err != nil {
					h.log.Error("notification hub: hang-up watch stopped", "err", err)
				}
			})
		}
	}
	defer h.closeAll()
	for range max(minWriters, runtime.GOMAXPROCS(0)) {
		workers.Go(h.writers.writeLoop)
	}
	workers.Go(func() { h.sweep.run(ctx.Done(), h.opts.Heartbeat) })
	workers.Go(func() { h.writers.retryStalled(ctx.Done()) })
	workers.Go(func() { h.writers.runPacer(ctx.Done()) })
	workers.Go(func() { h.users.run(ctx) })
	go func() {
		defer close(counting)
		h.counts.run(ctx)
	}()

	ticker := time.NewTicker(h.opts.Heartbeat)
	defer ticker.Stop()
	broker.Follow(ctx, h.woken, func(ctx context.Context) (err error) {
		heard := h.fanout.heardSoFar()
		if h.cursor, err = h.deliverAfter(ctx, h.cursor); err == nil {
			h.fanout.cover(heard)
		}
		return err
	}, ticker.C, h.beat)
	return nil
}

// closeAll drops every subscription and closes every taken-over
// connection, as Run ends.
func (h *Hub) closeAll() {
	h.mu.Lock()
	h.closed = true
	for s := range h.subs {
		delete(h.subs, s)
		s.drop()
	}
	conns := make([]*streamConn, 0, len(h.conns))
	for c := range h.conns {
		delete(h.conns, c)
		conns = append(conns, c)
	}
	h.mu.Unlock()
	h.writers.close()
	for _, c := range conns {
		c.close()
		h.users.unwatch(c)
	}
}
