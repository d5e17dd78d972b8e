package jobs

import (
	"context"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"beacon/app/broker"
	"beacon/app/models"
)

// Web Push's timings and bounds. Every instance plans from the change feed
// (the store lets one at a time move the cursor), and sends what it
// claims: pushConcurrency at once, at most perHost of them to one push
// service; while one has perHost out, its pushes are not claimed, so a
// slow one holds up its own devices and leaves the others half the room.
const (
	planBatch        = 50
	claimBatch       = 256
	pushConcurrency  = 256
	perHost          = 128
	claimLease       = 2 * time.Minute
	keepPushRows     = 7 * 24 * time.Hour
	prunePushesEvery = time.Hour
	// drainSends is how long sends under way may finish once the
	// instance stops; the rest are given back, to be sent again.
	drainSends = 5 * time.Second
	// outcomesBatch bounds how many results one transaction records.
	outcomesBatch = 256
	// planGap is the least time between two plans that wake-ups start:
	// under a burst of posts one plan takes a tenth of a second's changes
	// instead of each post's (two statements each, with no device at
	// all). A new notification's push waits WEBPUSH_DELAY anyway; an
	// edit's or a withdrawal's goes at most this much later.
	planGap = 100 * time.Millisecond
)

// PushStore is what Web Push needs from the store.
type PushStore interface {
	PlanPushes(ctx context.Context, delay time.Duration, limit int) (int, bool, error)
	NextPushDue(ctx context.Context) (time.Time, error)
	ClaimPushes(ctx context.Context, now time.Time, lease time.Duration, limit int, busy []string) ([]models.PushJob, error)
	FinishPushes(ctx context.Context, outcomes []models.PushOutcome) ([]int64, error)
	PrunePushDeliveries(ctx context.Context, t time.Time) (int64, error)
}

// PushSender sends one claimed push and says what became of it.
type PushSender interface {
	Push(ctx context.Context, j models.PushJob) models.PushOutcome
}

// WebPush sends every change of the feed to the devices owed it, outside
// any request: a plan loop turns changes into pushes owed (with the
// delay), a dispatch loop claims those due and sends them concurrently,
// and a record loop writes what became of them, many per transaction.
type WebPush struct {
	st    PushStore
	b     broker.Subscriber
	send  PushSender
	delay time.Duration
	log   *slog.Logger
	// planned wakes the dispatcher: a plan may owe pushes at once.
	planned chan struct{}
}

// NewWebPush sends through send what st owes, delay after each
// notification became visible.
func NewWebPush(st PushStore, b broker.Subscriber, send PushSender, delay time.Duration, log *slog.Logger) *WebPush {
	return &WebPush{st: st, b: b, send: send, delay: delay, log: log, planned: make(chan struct{}, 1)}
}

// Run plans and sends until ctx ends; then sends under way have
// drainSends to finish, and what became of each is recorded.
func (w *WebPush) Run(ctx context.Context) error {
	outcomes := make(chan models.PushOutcome, pushConcurrency)
	var wg sync.WaitGroup
	wg.Go(func() { w.plan(ctx) })
	wg.Go(func() { w.record(outcomes) })
	w.dispatch(ctx, outcomes) // returns once every send is done
	close(outcomes)
	wg.Wait()
	return nil
}

// plan moves the cursor over the feed whenever a notification changes
// (and every recheck, for a wake-up lost), and prunes old rows.
func (w *WebPush) plan(ctx context.Context) {
	wake := w.b.Subscribe(broker.NotificationsTopic)
	defer wake.Close()
	tick := time.NewTicker(recheck)
	defer tick.Stop()
	lastPrune := time.Time{}
	for {
		planned := time.Now()
		for more := true; more && ctx.Err() == nil; {
			var n int
			var err error
			n, more, err = w.st.PlanPushes(ctx, w.delay, planBatch)
			if err != nil {
				if ctx.Err() == nil {
					w.log.Error("web push: plan", "err", err)
				}
				break
			}
			if n > 0 {
				select {
				case w.planned <- struct{}{}:
				default:
				}
			}
		}
		if time.Since(lastPrune) >= prunePushesEvery {
			lastPrune = time.Now()
			if _, err := w.st.PrunePushDeliveries(ctx, lastPrune.Add(-keepPushRows)); err != nil && ctx.Err() == nil {
				w.log.Error("web push: prune", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-wake.C():
			if !sleep(ctx, planGap-time.Since(planned)) {
				return
			}
		case <-tick.C:
		}
	}
}

// sleep waits d, or until ctx ends: then it reports false.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// dispatch claims pushes as they fall due and slots free up, and sends
// each on a goroutine of its own, until ctx ends and every send is done.
func (w *WebPush) dispatch(ctx context.Context, outcomes chan<- models.PushOutcome) {
	// Sends outlive ctx by drainSends at most.
	sendCtx, cancelSends := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSends()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(drainSends, cancelSends) })
	defer stop()

	slots := make(chan struct{}, pushConcurrency)
	var mu sync.Mutex
	busy := map[string]int{} // sends under way per push service
	var sends sync.WaitGroup
	defer sends.Wait()
	// ended wakes the loop when a send ends while it waits for room (all
	// slots taken, or every push due is for a service at its cap).
	ended := make(chan struct{}, 1)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-w.planned:
		case <-ended:
		}
		wait := recheck
		for ctx.Err() == nil {
			free := pushConcurrency - len(slots)
			if free == 0 {
				break // until a send ends
			}
			next, err := w.st.NextPushDue(ctx)
			if err != nil || next.IsZero() || next.After(time.Now()) {
				if err != nil && ctx.Err() == nil {
					w.log.Error("web push: next due", "err", err)
				}
				if !next.IsZero() {
					wait = min(wait, max(time.Until(next), 0))
				}
				break
			}
			mu.Lock()
			var full []string
			for origin, n := range busy {
				if n >= perHost {
					full = append(full, origin)
				}
			}
			mu.Unlock()
			jobs, err := w.st.ClaimPushes(ctx, time.Now(), claimLease, min(free, claimBatch), full)
			if err != nil {
				if ctx.Err() == nil {
					w.log.Error("web push: claim", "err", err)
				}
				break
			}
			if len(jobs) == 0 {
				// Due, but claimed by others (theirs, or back at the
				// lease), or for services at their cap (a send's end wakes
				// the loop).
				break
			}
			for _, j := range jobs {
				h := originOf(j.Endpoint)
				mu.Lock()
				full := busy[h] >= perHost
				if !full {
					busy[h]++
				}
				mu.Unlock()
				if full {
					// Claimed with others before its service filled up:
					// due again at once, and not claimed while it is full.
					outcomes <- models.PushOutcome{Job: j, Result: models.PushReleased}
					continue
				}
				slots <- struct{}{}
				sends.Go(func() {
					o := w.send.Push(sendCtx, j)
					mu.Lock()
					busy[h]--
					mu.Unlock()
					// Queued before the slot is freed: when recording falls
					// behind, claiming waits for it, and no claim outlives
					// its lease while its outcome waits.
					outcomes <- o
					<-slots
					select {
					case ended <- struct{}{}:
					default:
					}
				})
			}
		}
		timer.Reset(wait)
	}
}

// record writes outcomes as they come, as many as are waiting in one
// transaction, until outcomes is closed and drained. It does not give up
// with the instance's context: a push sent must be recorded as sent.
func (w *WebPush) record(outcomes <-chan models.PushOutcome) {
	batch := make([]models.PushOutcome, 0, outcomesBatch)
	for o := range outcomes {
		batch = append(batch[:0], o)
	more:
		for len(batch) < outcomesBatch {
			select {
			case o, ok := <-outcomes:
				if !ok {
					break more
				}
				batch = append(batch, o)
			default:
				break more
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), claimLease/2)
		removed, err := w.st.FinishPushes(ctx, batch)
		cancel()
		if err != nil {
			// The claims run out and the pushes are claimed again: those
			// that went through are sent a second time (the device shows
			// one: same tag).
			w.log.Error("web push: record", "count", len(batch), "err", err)
		}
		if len(removed) > 0 {
			w.log.Info("web push: subscriptions deleted", "count", len(removed))
		}
	}
}

// originOf is an endpoint's scheme and host: its push service, as
// ClaimPushes' busy takes it.
func originOf(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
