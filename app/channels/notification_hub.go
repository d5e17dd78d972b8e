// Package channels holds Beacon's live connections: the notification hub
// with its Server-Sent Events writer and long-poll wait, and the chat hub.
// It is the only package with per-connection goroutines.
package channels

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"sync"
	"time"

	"beacon/app/broker"
	"beacon/app/models"
)

// NotificationsTopic is the broker topic that wakes the notification hubs
// when notifications were committed.
const NotificationsTopic = "notifications"

// UserTopic is the broker topic that wakes one user's streams and sockets
// when that user's state changes: they marked notifications read, or
// signed out.
// One topic per user: the broker coalesces pending wake-ups per
// subscription, which is only safe when any of them means the same thing
// ("look at this user again").
func UserTopic(userID int64) string {
	return "user." + strconv.FormatInt(userID, 10)
}

// fetchBatch bounds how many rows one query loads, for the hub and replays.
const fetchBatch = 500

// NotificationSource is what the hub reads from the database. It follows
// stream positions: every change to a notification (its post, an edit, a
// replacement by key, its withdrawal, its scheduled delivery) takes the
// next one.
type NotificationSource interface {
	AllChangesAndWithdrawalsAfter(ctx context.Context, after int64, limit int) ([]models.Notification, error)
	ChangesAfter(ctx context.Context, userID, after int64, limit int) ([]models.Notification, error)
	LastPosition(ctx context.Context) (int64, error)
	LastVisiblePosition(ctx context.Context, userID int64) (int64, error)
	PrunedThrough(ctx context.Context) (int64, error)
	AddDeliveryCounts(ctx context.Context, counts map[int64]int64) error
	UnreadCount(ctx context.Context, userID, through int64) (int64, error)
}

// Subscriber is a broker the hub uses to hear of new notifications, and
// of changes to users whose streams it took over.
type Subscriber interface {
	Subscribe(topic string) *broker.Subscription
	SubscribeFunc(topic string, f func()) *broker.Subscription
}

// Event is one rendered change, in every variant a stream may ask for
// (Fields). It is shared, by pointer, by every subscriber that receives
// it and must not be changed.
type Event struct {
	ID    int64  // the change's stream position; 0 for a heartbeat
	Frame []byte // the frame with AllFields
	// variants are the frames for HTMLFields and JSONFields, by Fields-1;
	// nil where it is Frame (a withdrawal, a heartbeat).
	variants [numFields - 1][]byte
}

// FrameFor is the frame a stream that asked for f is sent.
func (e *Event) FrameFor(f Fields) []byte {
	if f == AllFields || e.variants[f-1] == nil {
		return e.Frame
	}
	return e.variants[f-1]
}

// The kinds of change a stream sends, its frames' event field.
const (
	kindNotification = "notification" // first delivery
	kindUpdate       = "update"       // a change to one the client may hold
	kindWithdraw     = "withdraw"     // one the client may hold is gone
)

// kindAfter is what n's latest change is to a client that had every change
// up to position after: a withdrawal, a first delivery when n became
// visible after it, else an update.
func kindAfter(n models.Notification, after int64) string {
	switch {
	case n.Withdrawn():
		return kindWithdraw
	case n.NewAfter(after):
		return kindNotification
	default:
		return kindUpdate
	}
}

// heartbeat is the one ping event every stream shares.
var heartbeat = &Event{Frame: ping}

// Subscription is one stream or long poll: a bounded queue that the hub
// fills without ever blocking, and a signal for when the hub has let it go.
type Subscription struct {
	userID int64
	queue  chan *Event
	done   chan struct{}
	once   sync.Once
}

// Events delivers the frames queued for this subscription, in position order.
func (s *Subscription) Events() <-chan *Event { return s.queue }

// Done is closed when the hub drops the subscription: it fell behind, or
// the hub is shutting down.
func (s *Subscription) Done() <-chan struct{} { return s.done }

func (s *Subscription) drop() { s.once.Do(func() { close(s.done) }) }

// What no setting reaches: tests alone change them, through HubOptions.
const (
	// streamRetry is the reconnect delay every stream tells EventSource
	// (its first frame, "retry: 2000").
	streamRetry = 2 * time.Second
	// queueSize is how many frames a subscriber may have pending before
	// it is dropped.
	queueSize = 128
)

// HubOptions tune a NotificationHub. Heartbeat is a deployment's setting
// (HEARTBEAT_INTERVAL, whose default is config's) and must be set; Retry,
// QueueSize and CountEvery are for tests, and zero keeps streamRetry,
// queueSize and countEvery.
type HubOptions struct {
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

// NotificationEncoder encodes a notification's wire JSON on one line: the
// stream's data field, the same bytes the API sends for it.
type NotificationEncoder func(ctx context.Context, n models.Notification) ([]byte, error)

// NotificationHub loads each change once, renders its frame once, and hands
// the same bytes to every subscription allowed to see it.
type NotificationHub struct {
	source     NotificationSource
	encodeJSON NotificationEncoder
	broker     Subscriber
	log        *slog.Logger
	opts       HubOptions

	wake *broker.Subscription
	// woken fires when wake's callback counted a wake-up: counted first,
	// so a fan-out that starts on it sees the count (see fanoutProgress).
	woken  chan struct{}
	fanout *fanoutProgress // how far the fan-out has followed the wake-ups; see awaitFanout
	cursor int64           // the last position fanned out; only Run touches it after New

	mu    sync.Mutex
	subs  map[*Subscription]struct{}
	conns map[*streamConn]struct{} // streams taken over from their handlers
	// hangups finds the clients of conns that hang up (nil where it
	// cannot: then every one is swept).
	hangups *hangupWatch
	// swept are the connections the hang-up sweep looks at, by slot, and
	// nextSlot the slot of the next one.
	swept    [sweepSteps]map[*streamConn]struct{}
	nextSlot uint8
	// hangupScratch is what hungUp reads into.
	hangupScratch [512]byte
	closed        bool
	// readyBuf is offer's list of connections to hand to the writers,
	// kept so that a broadcast allocates nothing.
	readyBuf []*streamConn

	writers *connWriters
	users   *userWatches
	resume  *resumeWindow // recent changes, replayed without the database
	counts  *deliveryCounts
}

// NewNotificationHub returns a hub; call Run to start it. It listens to the
// broker before it reads the newest position, so a change committed in
// between is still announced to Run.
func NewNotificationHub(ctx context.Context, source NotificationSource, encode NotificationEncoder, b Subscriber, log *slog.Logger, opts HubOptions) (*NotificationHub, error) {
	if opts.Heartbeat <= 0 {
		return nil, errors.New("notification hub: HubOptions needs a positive Heartbeat")
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
	wake := b.SubscribeFunc(NotificationsTopic, func() {
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
	var hangups *hangupWatch
	if !opts.sweepOnly {
		if hangups, err = newHangupWatch(); err != nil {
			hangups = nil // swept instead
		}
	}
	h := &NotificationHub{
		source: source, encodeJSON: encode, broker: b, log: log, opts: opts,
		wake: wake, cursor: cursor,
		woken: woken, fanout: fanout,
		subs:    make(map[*Subscription]struct{}),
		conns:   make(map[*streamConn]struct{}),
		writers: newConnWriters(),
		users:   newUserWatches(),
		resume:  newResumeWindow(ctx, source, cursor, opts.ResumeWindow, log),
		counts:  newDeliveryCounts(),
		hangups: hangups,
	}
	for i := range h.swept {
		h.swept[i] = make(map[*streamConn]struct{})
	}
	return h, nil
}

// Run delivers notifications until ctx ends, then drops every subscription
// and closes every connection it took over, so that streams end and their
// browsers reconnect elsewhere.
func (h *NotificationHub) Run(ctx context.Context) error {
	defer h.wake.Close()
	var workers sync.WaitGroup
	defer workers.Wait()
	counting := make(chan struct{})
	// After closeAll, so that the streams end first.
	defer h.writeLastCounts(ctx, counting)
	if h.hangups != nil {
		// After closeAll, which takes each connection out of its set.
		defer h.hangups.close()
		workers.Go(func() { h.hangups.run(h.hungUp) })
	}
	defer h.closeAll()
	for range max(minWriters, runtime.GOMAXPROCS(0)) {
		workers.Go(h.writeLoop)
	}
	workers.Go(func() { h.maintain(ctx.Done()) })
	workers.Go(func() { h.writers.runPacer(ctx.Done()) })
	workers.Go(func() { h.answerUsers(ctx) })
	go func() {
		defer close(counting)
		h.writeCounts(ctx)
	}()

	ticker := time.NewTicker(h.opts.Heartbeat)
	defer ticker.Stop()
	follow(ctx, h.woken, func(ctx context.Context) (err error) {
		heard := h.fanout.heardSoFar()
		if h.cursor, err = h.deliverAfter(ctx, h.cursor); err == nil {
			h.fanout.cover(heard)
		}
		return err
	}, ticker.C, func() { h.broadcast(heartbeat, 0, false) })
	return nil
}

// deliverAfter fans out every change after cursor and returns the new
// cursor. On a database error it returns the error and the cursor as far as
// it got; Run retries.
//
// Each change is classified against the hub's cursor, the same for every
// subscriber: one posted and edited before the hub looked is still a first
// `notification` to them. A withdrawal is sent even for one the hub never
// fanned out, since a stream's replay may have read it first. Deliveries
// count first deliveries only.
func (h *NotificationHub) deliverAfter(ctx context.Context, cursor int64) (int64, error) {
	for {
		ns, err := h.source.AllChangesAndWithdrawalsAfter(ctx, cursor, fetchBatch)
		if err != nil {
			if ctx.Err() != nil {
				return cursor, nil
			}
			h.log.Error("notification hub: load", "after", cursor, "err", err)
			return cursor, err
		}
		for _, n := range ns {
			kind := kindAfter(n, cursor)
			ev, err := h.encode(ctx, n, kind)
			h.resume.add(n, kind, ev) // before the fan-out: resume_window.go says why
			if err != nil {
				h.log.Error("notification hub: render", "id", n.ID, "position", n.Position, "err", err)
				continue
			}
			var recipient int64
			if n.RecipientID != nil {
				recipient = *n.RecipientID
			}
			sent := h.broadcast(ev, recipient, true)
			if kind == kindNotification && sent > 0 {
				// Written by writeCounts, so that the write never delays a
				// fan-out or a post.
				h.counts.add(n.ID, sent)
			}
			cursor = n.Position
		}
		if len(ns) < fetchBatch {
			return cursor, nil
		}
	}
}

// encode renders the frames of n's latest change as kind, in every
// variant: a withdrawal carries the id alone, the others n's wire JSON.
func (h *NotificationHub) encode(ctx context.Context, n models.Notification, kind string) (*Event, error) {
	ev := &Event{ID: n.Position}
	if kind == kindWithdraw {
		ev.Frame = encodeEvent(n.Position, kind, encodeWithdraw(n.ID))
		return ev, nil
	}
	full, err := h.encodeJSON(ctx, n)
	if err != nil {
		return nil, err
	}
	html, plain, err := splitFields(full)
	if err != nil {
		return nil, err
	}
	ev.Frame = encodeEvent(n.Position, kind, full)
	ev.variants[HTMLFields-1] = encodeEvent(n.Position, kind, html)
	ev.variants[JSONFields-1] = encodeEvent(n.Position, kind, plain)
	return ev, nil
}

// broadcast offers ev to every subscription that may see it (recipient 0:
// everyone) and returns how many took it. A subscription whose queue is
// full is dropped when evict is set; a heartbeat is simply skipped.
func (h *NotificationHub) broadcast(ev *Event, recipient int64, evict bool) int {
	h.mu.Lock()
	sent, behind := h.offer(ev, recipient, evict)
	h.mu.Unlock()
	for _, c := range behind {
		c.close()
		h.unwatch(c)
	}
	return sent
}

// pushBatch is how many connections offer hands to the writers at
// once: they start writing while it visits the rest.
const pushBatch = 256

// offer is broadcast under h.mu; it returns the taken-over connections it
// let go, for broadcast to close outside the lock.
func (h *NotificationHub) offer(ev *Event, recipient int64, evict bool) (sent int, behind []*streamConn) {
	ready := h.readyBuf[:0]
	for c := range h.conns {
		if recipient != 0 && c.userID != recipient {
			continue
		}
		c.mu.Lock()
		took, schedule := c.queue(ev, h.opts.QueueSize)
		c.mu.Unlock()
		switch {
		case schedule:
			if ready = append(ready, c); len(ready) == pushBatch {
				h.writers.push(ready...)
				clear(ready)
				ready = ready[:0]
			}
			fallthrough
		case took:
			sent++
		case evict:
			delete(h.conns, c)
			behind = append(behind, c)
		}
	}
	h.writers.push(ready...)
	clear(ready)
	h.readyBuf = ready[:0]
	for s := range h.subs {
		if recipient != 0 && s.userID != recipient {
			continue
		}
		select {
		case s.queue <- ev:
			sent++
		default:
			if evict {
				delete(h.subs, s)
				s.drop()
			}
		}
	}
	return sent, behind
}

// Subscribe registers a subscription for user userID (0: a visitor). It
// receives every change delivered from now on that the user may see.
func (h *NotificationHub) Subscribe(userID int64) *Subscription {
	s := &Subscription{userID: userID, queue: make(chan *Event, h.opts.QueueSize), done: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		s.drop()
		return s
	}
	h.subs[s] = struct{}{}
	return s
}

// Unsubscribe releases s.
func (h *NotificationHub) Unsubscribe(s *Subscription) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
	s.drop()
}

// Subscribers is how many subscriptions the hub holds.
func (h *NotificationHub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs) + len(h.conns)
}

func (h *NotificationHub) closeAll() {
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
		h.unwatch(c)
	}
}
