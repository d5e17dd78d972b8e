package broker

import (
	"context"
	"time"
)

// Follow is the loop every hub runs: at each wake-up from the broker it
// calls deliver, which loads what is after the hub's cursor and fans it
// out; while deliver fails, the retry pacer calls it again, since nothing
// else may wake the hub for hours. It returns when ctx ends.
//
// beat (nil: never) interrupts the wait to call onBeat: the notification
// hub's heartbeats, which load nothing and move no cursor.
func Follow(ctx context.Context, wake <-chan struct{}, deliver func(context.Context) error, beat <-chan time.Time, onBeat func()) {
	var again retry
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat:
			onBeat()
			continue
		case <-wake:
		case <-again.c:
		}
		again.after(deliver(ctx))
	}
}
