package stream

import (
	"context"

	"beacon/app/models"
)

// Encode renders n's first-delivery frame as the hub does, for benchmarks.
func (h *Hub) Encode(ctx context.Context, n models.Notification) (*Event, error) {
	return h.encode(ctx, n, kindNotification)
}

// SweepOnly is opts for a hub that finds hung-up clients by its sweep
// alone, as where there is no hang-up watch.
func SweepOnly(opts Options) Options {
	opts.sweepOnly = true
	return opts
}

// Swept is how many taken-over connections the hub's sweep looks at.
func (h *Hub) Swept() int { return h.sweep.swept() }

// AwaitFanout waits until the hub has fanned out every wake-up it heard.
func (h *Hub) AwaitFanout(ctx context.Context) bool { return h.fanout.awaitFanout(ctx) }
