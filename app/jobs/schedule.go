package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"beacon/app/broker"
)

// recheck bounds how long the scheduler waits without looking at the
// database: a notification scheduled on another instance whose wake-up was
// lost, or a failed look, is at most this late.
const recheck = time.Second

// Schedule is what the scheduler needs from the store.
type Schedule interface {
	// DeliverDue makes every notification due at now live, each once
	// however many instances call it, and says when the next falls due.
	DeliverDue(ctx context.Context, now time.Time) (int, time.Time, error)
	NextDue(ctx context.Context) (time.Time, error)
}

// DeliverScheduled delivers scheduled notifications as they fall due, and
// what fell due while no instance ran as soon as it starts, until ctx
// ends. After a delivery it wakes the hubs on every instance.
func DeliverScheduled(ctx context.Context, st Schedule, b Broker, log *slog.Logger) error {
	// A post with a deliver_at may be due before the time the scheduler
	// sleeps to.
	wake := b.Subscribe(broker.ScheduleTopic)
	defer wake.Close()
	timer := time.NewTimer(0) // at once: what fell due meanwhile
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-wake.C():
		case <-timer.C:
		}
		wait := recheck
		if next := deliverDue(ctx, st, b, log); !next.IsZero() {
			wait = min(wait, time.Until(next))
		}
		timer.Reset(max(wait, 0))
	}
}

// deliverDue delivers what is due now, if anything, and returns when the
// next one is (zero: none waits, or the database failed and was logged).
// It reads before it writes: most looks find nothing due, and a delivery
// is a write transaction under the notifications lock.
func deliverDue(ctx context.Context, st Schedule, b Broker, log *slog.Logger) time.Time {
	next, err := st.NextDue(ctx)
	if err != nil || next.IsZero() || next.After(time.Now()) {
		if err != nil && ctx.Err() == nil {
			log.Error("scheduled notifications: next due", "err", err)
		}
		return next
	}
	var n int
	// The only error SaveThenPublish can return here is errNoneDelivered:
	// what failed is in err.
	_ = broker.SaveThenPublish(ctx, b, log, broker.NotificationsTopic, func(ctx context.Context) error {
		n, next, err = st.DeliverDue(ctx, time.Now())
		if n == 0 {
			return errNoneDelivered
		}
		// Delivered rows are committed even when a later batch failed:
		// the hubs are woken for them, and err is logged below.
		return nil
	})
	if n > 0 {
		log.Info("scheduled notifications delivered", "count", n)
	}
	if err != nil && ctx.Err() == nil {
		log.Error("scheduled notifications: deliver", "err", err)
	}
	return next
}

// errNoneDelivered tells SaveThenPublish that a delivery changed nothing,
// so that no hub is woken for it.
var errNoneDelivered = errors.New("no scheduled notification delivered")
