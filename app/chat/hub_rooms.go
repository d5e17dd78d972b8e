package chat

import (
	"beacon/app/broker"
	"context"
)

// runRoom loads the room's recent history, then delivers its new messages
// until ctx ends (the last client left, or shutdown).
func (h *Hub) runRoom(ctx context.Context, r *chatRoom) {
	// Subscribe before loading, so a message stored in between wakes us.
	wake := h.broker.Subscribe(broker.ChatTopic(r.name))
	defer wake.Close()
	seen := h.broker.Subscribe(broker.PresenceTopic(r.name))

	cursor, err := h.loadRecent(ctx, r)
	if err == nil {
		// Before the first client's opening presence frame, so that it
		// lists who is online elsewhere.
		h.readOthers(ctx, r)
	}
	r.err = err
	close(r.ready)
	if err != nil {
		seen.Close()
		if ctx.Err() == nil {
			h.log.Error("chat: load room", "room", r.name, "err", err)
		}
		return
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer seen.Close()
		h.runPresence(ctx, r, seen.C())
	}()
	broker.Follow(ctx, wake.C(), func(ctx context.Context) (err error) {
		cursor, err = h.deliverAfter(ctx, r, cursor)
		return err
	}, nil, nil)
}

// chatCatchUp is the most messages a reconnecting client is sent to catch
// up; one that missed more gets the last History, as a new one does.
const chatCatchUp = 500

// missedSince loads room's messages after id for a client that
// reconnects, or returns nil when it missed more than chatCatchUp.
func (h *Hub) missedSince(ctx context.Context, room string, after int64) ([]chatFrame, error) {
	ms, err := h.source.ChatMessagesAfter(ctx, room, after, chatCatchUp+1)
	if err != nil || len(ms) > chatCatchUp {
		return nil, err
	}
	missed := make([]chatFrame, 0, len(ms))
	for _, m := range ms {
		frame, err := encodeChatMessage(ctx, h.render, m)
		if err != nil {
			return nil, err
		}
		missed = append(missed, chatFrame{m.ID, frame})
	}
	return missed, nil
}

func (h *Hub) loadRecent(ctx context.Context, r *chatRoom) (int64, error) {
	ms, err := h.source.RecentChatMessages(ctx, r.name, History)
	if err != nil {
		return 0, err
	}
	var cursor int64
	for _, m := range ms {
		frame, err := encodeChatMessage(ctx, h.render, m)
		if err != nil {
			return 0, err
		}
		r.recent = append(r.recent, chatFrame{m.ID, frame})
		cursor = m.ID
	}
	return cursor, nil
}

// fetchBatch bounds how many messages one query loads.
const fetchBatch = 500

// deliverAfter fans out the room's messages after cursor and returns the
// new cursor. On a database error it returns the error and the cursor as
// far as it got; broker.Follow retries.
func (h *Hub) deliverAfter(ctx context.Context, r *chatRoom, cursor int64) (int64, error) {
	for {
		ms, err := h.source.ChatMessagesAfter(ctx, r.name, cursor, fetchBatch)
		if err != nil {
			if ctx.Err() != nil {
				return cursor, nil
			}
			h.log.Error("chat: load messages", "room", r.name, "after", cursor, "err", err)
			return cursor, err
		}
		for _, m := range ms {
			frame, err := encodeChatMessage(ctx, h.render, m)
			if err != nil {
				h.log.Error("chat: render", "id", m.ID, "err", err)
			} else {
				r.deliver(m.ID, frame)
			}
			cursor = m.ID
		}
		if len(ms) < fetchBatch {
			return cursor, nil
		}
	}
}
