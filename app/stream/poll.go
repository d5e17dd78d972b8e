package stream

import (
	"context"
	"time"

	"beacon/app/models"
)

// Wait answers a long poll: the notifications user userID may see that
// changed after position after (as ChangesAfter returns them, the list
// API's query), at once if there are any, else as soon as one is
// delivered, else an empty list when timeout passes, ctx ends, or the hub
// shuts down.
func (h *Hub) Wait(ctx context.Context, userID, after int64, limit int, timeout time.Duration) ([]models.Notification, error) {
	// Subscribe before the first query, so nothing committed between the
	// query and the wait goes unnoticed.
	groups, err := h.source.GroupIDsOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	sub := h.Subscribe(userID, groups)
	defer h.Unsubscribe(sub)

	ns, err := h.source.ChangesAfter(ctx, userID, after, limit)
	if err != nil || len(ns) > 0 {
		return ns, err
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ns, nil
		case <-timer.C:
			return ns, nil
		case <-sub.Done():
			return ns, nil
		case ev := <-sub.Events():
			if ev.ID <= after {
				continue
			}
			// Empty when the change was the withdrawal of one this client
			// never had: nothing to tell it, so it waits on.
			if ns, err = h.source.ChangesAfter(ctx, userID, after, limit); err != nil || len(ns) > 0 {
				return ns, err
			}
		}
	}
}
