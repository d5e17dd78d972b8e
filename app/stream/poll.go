package stream

import (
	"context"
	"time"

	"beacon/app/models"
)

// Wait answers a long poll: the notifications user userID may see that
// changed after position after (a page as ListAfter reads them, the list
// API's query), at once if there are any, else as soon as one is
// delivered, else an empty page when timeout passes, ctx ends, or the hub
// shuts down.
func (h *Hub) Wait(ctx context.Context, userID, after int64, limit int, timeout time.Duration) (models.Replay, error) {
	// Subscribe before the first query, so nothing committed between the
	// query and the wait goes unnoticed.
	groups, err := h.source.GroupIDsOf(ctx, userID)
	if err != nil {
		return models.Replay{}, err
	}
	sub := h.Subscribe(userID, groups)
	defer h.Unsubscribe(sub)

	page, err := h.source.ListAfter(ctx, userID, after, limit)
	if err != nil || len(page.Changes) > 0 {
		return page, err
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return page, nil
		case <-timer.C:
			return page, nil
		case <-sub.Done():
			return page, nil
		case ev := <-sub.Events():
			if ev.ID <= after {
				continue
			}
			// Empty when the change was the withdrawal of one this client
			// never had: nothing to tell it, so it waits on.
			if page, err = h.source.ListAfter(ctx, userID, after, limit); err != nil || len(page.Changes) > 0 {
				return page, err
			}
		}
	}
}
