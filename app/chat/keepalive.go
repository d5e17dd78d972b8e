package chat

import (
	"context"
	"time"
)

// pingSlots is how many groups the connections are pinged in, one group
// each pingPeriod/pingSlots: the pings (and the session checks with them)
// of sockets opened together are spread over the period.
const pingSlots = 30

// pingUntil pings every connection once each pingPeriod until ctx ends,
// from one ticker for all of them.
func (h *Hub) pingUntil(ctx context.Context) {
	t := time.NewTicker(pingPeriod / pingSlots)
	defer t.Stop()
	for slot := 0; ; slot = (slot + 1) % pingSlots {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h.mu.Lock()
		for c := range h.slots[slot] {
			c.ping()
		}
		h.mu.Unlock()
	}
}

// addConnLocked gives c the next ping slot, round robin, and records it
// there until removeConnLocked. h.mu is held.
func (h *Hub) addConnLocked(c *chatClient) {
	c.pingSlot = int(h.joins % pingSlots)
	h.joins++
	h.slots[c.pingSlot][c] = struct{}{}
}

// removeConnLocked forgets c. h.mu is held.
func (h *Hub) removeConnLocked(c *chatClient) {
	delete(h.slots[c.pingSlot], c)
}
