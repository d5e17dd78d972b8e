package stream

import (
	"context"

	"beacon/app/models"
)

// Event is one rendered change, in every variant a stream may ask for
// (Fields). It is shared, by pointer, by every subscriber that receives
// it and must not be changed.
type Event struct {
	ID    int64  // its id: line, a stream position; 0 for a heartbeat or a mark
	Frame []byte // the frame with AllFields
	// variants are the frames for HTMLFields and JSONFields, by Fields-1;
	// nil where it is Frame (a withdrawal, a heartbeat).
	variants [numFields - 1][]byte
	// notification is its notification's id; 0 for a withdrawal and a
	// heartbeat.
	notification int64
	// A notification the hub had not fanned out yet goes as two events
	// (see encodeAfter): its first, for streams whose replay ended before
	// first (onlyBefore), and its change, for the others (onlyFrom).
	onlyBefore, onlyFrom int64
	// regrouped marks, in a subscription's queue, where its user's groups
	// changed (regroupUser): its stream is sent `reset` there.
	regrouped bool
}

// For is e, or nil when a stream whose replay went through position start
// is not sent it.
func (e *Event) For(start int64) *Event {
	if e.onlyBefore != 0 && start >= e.onlyBefore || start < e.onlyFrom {
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

// emission is one event the hub fans out for a change, of kind.
type emission struct {
	kind string
	ev   *Event
}

// encodeAfter renders n's latest change for streams that had every change
// up to position after, the hub's cursor before its look; nothing, with the
// error, when it cannot.
//
// One new since then (posted, and maybe edited, replaced or withdrawn
// before the hub looked) goes out at its first position, as `notification`
// in its latest state, to streams that never had it; a stream whose replay
// ended at or after its first position read it there, and gets the change
// at its position, as `update` (or `withdraw`). Sent at the first
// position, the notification comes before every later position on the
// stream, so a client that resumes from any id it was given has had every
// notification that became visible up to it: one cut in between would
// otherwise resume past a notification it never got, and be sent updates
// of it only. Posted and withdrawn before the hub looked, it is nothing to
// a stream that never had it.
func (h *Hub) encodeAfter(ctx context.Context, n models.Notification, after int64) ([]emission, error) {
	kind := kindAfter(n, after)
	if !n.NewAfter(after) {
		ev, err := h.encode(ctx, n, kind)
		if err != nil {
			return nil, err
		}
		return []emission{{kind, ev}}, nil
	}
	if kind == kindWithdraw {
		ev := withdrawEvent(n)
		ev.onlyFrom = n.FirstPosition
		return []emission{{kind, ev}}, nil
	}
	data, err := h.render(ctx, n)
	if err != nil {
		return nil, err
	}
	first := dataEvent(n.ID, n.FirstPosition, kindNotification, data)
	if n.Position == n.FirstPosition {
		return []emission{{kindNotification, first}}, nil
	}
	first.onlyBefore = n.FirstPosition
	change := dataEvent(n.ID, n.Position, kindUpdate, data)
	change.onlyFrom = n.FirstPosition
	return []emission{{kindNotification, first}, {kindUpdate, change}}, nil
}

// encode renders n's latest change as kind, in every variant: a
// withdrawal carries the id alone, the others n's wire JSON. A first
// delivery stands at n's first position (see encodeAfter), any other
// change at its position.
func (h *Hub) encode(ctx context.Context, n models.Notification, kind string) (*Event, error) {
	if kind == kindWithdraw {
		return withdrawEvent(n), nil
	}
	data, err := h.render(ctx, n)
	if err != nil {
		return nil, err
	}
	pos := n.Position
	if kind == kindNotification {
		pos = n.FirstPosition
	}
	return dataEvent(n.ID, pos, kind, data), nil
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

func dataEvent(id, pos int64, kind string, data [numFields][]byte) *Event {
	ev := &Event{ID: pos, Frame: encodeEvent(pos, kind, data[AllFields]), notification: id}
	ev.variants[HTMLFields-1] = encodeEvent(pos, kind, data[HTMLFields])
	ev.variants[JSONFields-1] = encodeEvent(pos, kind, data[JSONFields])
	return ev
}

func withdrawEvent(n models.Notification) *Event {
	return &Event{ID: n.Position, Frame: encodeEvent(n.Position, kindWithdraw, encodeWithdraw(n.ID))}
}
