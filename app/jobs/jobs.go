// Package jobs holds the work each Beacon instance does on its own clock
// rather than for a request: delivering scheduled notifications when they
// fall due, pruning old ones, and telling users' streams that their groups
// changed. Every instance runs them all; the store makes them safe side by
// side (each delivery happens once, prunes take turns).
package jobs

import "beacon/app/broker"

// Broker wakes the hubs once notifications were delivered, and wakes the
// scheduler when one is posted (it may be due sooner than any it knew).
type Broker interface {
	broker.Subscriber
	broker.Publisher
}
