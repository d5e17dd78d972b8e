package channels

import (
	"context"

	"beacon/app/models"
)

// Event is one rendered change, in every variant a stream may ask for
// (Fields). It is shared, by pointer, by every subscriber that receives
// it and must not be changed.
type Event struct {
	ID    int64  // the change's stream position; 0 for a heartbeat
	Frame []byte // the frame with AllFields
	// variants are the frames for HTMLFields and JSONFields, by Fields-1;
	// nil where it is Frame (a withdrawal, a heartbeat).
	variants [numFields - 1][]byte
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

// heartbeat is the one ping event every stream shares.
var heartbeat = &Event{Frame: ping}

// encode renders the frames of n's latest change as kind, in every
// variant: a withdrawal carries the id alone, the others n's wire JSON.
func (h *NotificationHub) encode(ctx context.Context, n models.Notification, kind string) (*Event, error) {
	ev := &Event{ID: n.Position}
	if kind == kindWithdraw {
		ev.Frame = encodeEvent(n.Position, kind, encodeWithdraw(n.ID))
		return ev, nil
	}
	full, err := h.encodeJSON(ctx, n)
	if err != nil {
		return nil, err
	}
	html, plain, err := splitFields(full)
	if err != nil {
		return nil, err
	}
	ev.Frame = encodeEvent(n.Position, kind, full)
	ev.variants[HTMLFields-1] = encodeEvent(n.Position, kind, html)
	ev.variants[JSONFields-1] = encodeEvent(n.Position, kind, plain)
	return ev, nil
}
