package stream

import (
	"beacon/app/audience"
	"beacon/app/models"
	"cmp"
	"context"
	"slices"
	"strconv"
)

// The Last-Event-ID replay: what a resuming stream missed, from the
// resume window (resume_window.go) or the database, or `reset`.

// maxReplay is the most events a resuming stream is sent: a client further
// behind gets `reset` and reloads the newest page instead.
const maxReplay = 1000

// replay queues what the client missed and returns the last position it
// has: every notification the user may see that changed after the client's
// cursor, once, in its latest state, in position order. A cursor it cannot
// resume from, or one more than maxReplay events behind, gets `reset`.
//
// It returns at least the newest position read before the replay: every
// change up to it had committed, so the replay sent its latest state, and
// live events up to it would only repeat it.
func (h *Hub) replay(ctx context.Context, out *streamWriter, req Request) (sent int64, replayed []*Event, err error) {
	if after, ok := parseID(req.LastEventID); ok && after < req.regroupedAt {
		// What the client holds was chosen by the user's old groups. The
		// reset's id is at least regroupedAt (LastVisiblePosition), so the
		// client resumes from past it.
		last, err := h.source.LastPosition(ctx)
		if err != nil {
			return 0, nil, err
		}
		sent, err := h.reset(ctx, out, req.UserID, last)
		return sent, nil, err
	}
	// A cursor the resume window covers is served from memory.
	if evs, sent, ok := h.resume.replay(ctx, h, audience.Member(req.UserID, req.groups), req.LastEventID); ok {
		for _, ev := range evs {
			out.add(ev.FrameFor(req.Fields))
		}
		return sent, evs, nil
	}
	last, err := h.source.LastPosition(ctx)
	if err != nil {
		return 0, nil, err
	}
	if req.LastEventID == "" {
		return last, nil, nil // a new client starts from now
	}
	after, ok := parseID(req.LastEventID)
	if ok {
		if ok, err = h.resumable(ctx, req.UserID, after); err != nil {
			return 0, nil, err
		}
	}
	var r models.Replay
	if ok {
		if r, err = h.source.ReplayAfter(ctx, req.UserID, after, maxReplay); err != nil {
			return 0, nil, err
		}
		ok = !r.More
	}
	if !ok {
		sent, err := h.reset(ctx, out, req.UserID, last)
		return sent, nil, err
	}
	// Past last when changes committed between the two reads: the replay
	// has their outcome, the withdrawals it left out included.
	sent = max(last, r.Through)
	evs := make([]*Event, 0, len(r.Changes))
	for _, n := range r.Changes {
		// Against the client's own cursor: it decides what the client holds.
		ev, err := h.encode(ctx, audience.ShownTo(n, audience.Member(req.UserID, req.groups)), kindAfter(n, after))
		if err != nil {
			return 0, nil, err
		}
		evs = append(evs, ev)
	}
	for _, ev := range inIDOrder(evs) {
		out.add(ev.FrameFor(req.Fields))
	}
	return sent, evs, nil
}

// resumable reports whether a client at position after can be brought up to
// date by a replay: nothing it missed was pruned, and the position is one
// this viewer's stream could have sent. Where "now" is for this viewer: the
// newest position overall would tell anyone when others' notifications
// change.
func (h *Hub) resumable(ctx context.Context, userID, after int64) (bool, error) {
	pruned, err := h.source.PrunedThrough(ctx)
	if err != nil {
		return false, err
	}
	if after < pruned {
		return false, nil
	}
	visible, err := h.source.LastVisiblePosition(ctx, userID)
	if err != nil {
		return false, err
	}
	return after <= max(visible, pruned), nil
}

// reset tells the client where "now" is for it, so it reloads once (a reset
// database, a forged header, a cursor pruned or too far behind), and returns
// the position live events continue after.
func (h *Hub) reset(ctx context.Context, out *streamWriter, userID, last int64) (int64, error) {
	visible, err := h.source.LastVisiblePosition(ctx, userID)
	if err != nil {
		return 0, err
	}
	pruned, err := h.source.PrunedThrough(ctx)
	if err != nil {
		return 0, err
	}
	// Never below what was pruned: a client resuming from the id it is
	// given must not be reset again.
	now := max(visible, pruned)
	out.add(encodeEvent(now, "reset", encodeReset(now)))
	return max(last, now), nil
}

// parseID accepts a decimal, non-negative stream position.
func parseID(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 0 || s[0] == '+' {
		return 0, false
	}
	return id, true
}

// inIDOrder sorts a replay's events by their id: lines. A notification new
// to the client goes at its first position (Hub.encode), before every
// later change, so a client cut off anywhere in the replay resumes from
// an id before which it has had every notification visible to it.
func inIDOrder(evs []*Event) []*Event {
	slices.SortStableFunc(evs, func(a, b *Event) int { return cmp.Compare(a.ID, b.ID) })
	return evs
}
