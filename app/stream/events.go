package stream

import (
	"context"

	"beacon/app/models"
)

// Event is one rendered change, in every variant a stream may ask for
// (Fields). It is shared, by pointer, by every subscriber that receives
// it and must not be changed.
type Event struct {
	ID    int64  // the change's stream position; 0 for a heartbeat
	Frame []byte // the frame with AllFields; nil: nothing to send (see For)
	// variants are the frames for HTMLFields and JSONFields, by Fields-1;
	// nil where it is Frame (a withdrawal, a heartbeat).
	variants [numFields - 1][]byte
	// held is what a stream that already holds the notification is sent
	// instead, for a change the hub fans out as the notification's first
	// (`update` for `notification`, `withdraw` for nothing): a stream whose
	// replay began at or after first read the notification from the
	// database, so a `notification` now would be its second.
	held  *Event
	first int64
}

// For is the event a stream whose replay went through position start is
// sent in e's place, or nil when it is sent nothing.
func (e *Event) For(start int64) *Event {
	if e.held != nil && start >= e.first {
		return e.held
	}
	if e.Frame == nil {
		return nil
	}
	return e
}

// FrameFor is the frame a stream that asked for f is sent.
func (e *Event) FrameFor(f Fields) []byte {
	if f == AllFields || e.variants[f-1] == nil {
		return e.Frame
	}
	return e.variants[f-1]
}

// The kinds of change a stream sends, its frames' event field.
const (
	kindNotification = "notification" // first delivery
	kindUpdate       = "update"       // a change to one the client may hold
	kindWithdraw     = "withdraw"     // one the client may hold is gone
)

// kindAfter is what n's latest change is to a client that had every change
// up to position after: a withdrawal, a first delivery when n became
// visible after it, else an update.
func kindAfter(n models.Notification, after int64) string {
	switch {
	case n.Withdrawn():
		return kindWithdraw
	case n.NewAfter(after):
		return kindNotification
	default:
		return kindUpdate
	}
}

// encodeAfter renders n's latest change for streams that had every change
// up to position after, the hub's cursor before its look. One new since
// then is `notification` (nothing, when withdrawn meanwhile) to a stream
// that never had it, and the same change as `update` (or `withdraw`) to
// one whose replay already read it; see Event.For.
func (h *Hub) encodeAfter(ctx context.Context, n models.Notification, after int64) (ev *Event, kind string, err error) {
	kind = kindAfter(n, after)
	if !n.NewAfter(after) {
		ev, err = h.encode(ctx, n, kind)
		return ev, kind, err
	}
	if kind == kindWithdraw {
		return &Event{ID: n.Position, held: withdrawEvent(n), first: n.FirstPosition}, kind, nil
	}
	data, err := h.render(ctx, n)
	if err != nil {
		return nil, kind, err
	}
	ev = dataEvent(n.Position, kindNotification, data)
	ev.held, ev.first = dataEvent(n.Position, kindUpdate, data), n.FirstPosition
	return ev, kind, nil
}

// encode renders the frames of n's latest change as kind, in every
// variant: a withdrawal carries the id alone, the others n's wire JSON.
func (h *Hub) encode(ctx context.Context, n models.Notification, kind string) (*Event, error) {
	if kind == kindWithdraw {
		return withdrawEvent(n), nil
	}
	data, err := h.render(ctx, n)
	if err != nil {
		return nil, err
	}
	return dataEvent(n.Position, kind, data), nil
}

// render is n's wire JSON in every variant, by Fields.
func (h *Hub) render(ctx context.Context, n models.Notification) (data [numFields][]byte, err error) {
	full, err := h.encodeJSON(ctx, n)
	if err != nil {
		return data, err
	}
	html, plain, err := splitFields(full)
	if err != nil {
		return data, err
	}
	data[AllFields], data[HTMLFields], data[JSONFields] = full, html, plain
	return data, nil
}

func dataEvent(pos int64, kind string, data [numFields][]byte) *Event {
	ev := &Event{ID: pos, Frame: encodeEvent(pos, kind, data[AllFields])}
	ev.variants[HTMLFields-1] = encodeEvent(pos, kind, data[HTMLFields])
	ev.variants[JSONFields-1] = encodeEvent(pos, kind, data[JSONFields])
	return ev
}

func withdrawEvent(n models.Notification) *Event {
	return &Event{ID: n.Position, Frame: encodeEvent(n.Position, kindWithdraw, encodeWithdraw(n.ID))}
}
