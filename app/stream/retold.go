package stream

import (
	"context"
	"slices"

	"beacon/app/audience"
	"beacon/app/models"
)

// retold is a change of a notification whose audience changed since the
// hub's cursor before the look (an edit's "to"). What it is to a stream
// depends on the viewer and on what the stream's client held
// (audience.Timeline.Told): an `update` to one who keeps it, a
// `notification` where it became visible to one who gains it, a `withdraw`
// where one lost it.
// A stream whose replay ended past the cursor held what the replay read,
// so each event is rendered for a window of replay ends (Event.For): the
// stretches between the notification's first position and its changes of
// audience, within which what a client held stays the same. Used by the
// hub's goroutine under h.mu only.
type retold struct {
	h   *Hub
	ctx context.Context
	tl  audience.Timeline
	to  audience.Audience // its audience now
	// starts begin the windows: the hub's cursor, then each later position
	// at which what a client holds may differ.
	starts []int64
	events map[retoldKey]*Event
}

type retoldKey struct {
	view   audience.ViewKey
	window int
	kind   string
	pos    int64
}

// newRetold is the change n (its AudienceChanges after before loaded) for
// streams that had every change up to before.
func newRetold(ctx context.Context, h *Hub, n models.Notification, before int64) *retold {
	starts := []int64{before}
	add := func(p int64) {
		if p > before && !slices.Contains(starts, p) {
			starts = append(starts, p)
		}
	}
	add(n.FirstPosition)
	for _, c := range n.AudienceChanges {
		add(c.Position)
	}
	slices.Sort(starts)
	return &retold{h: h, ctx: ctx, tl: audience.TimelineOf(n), to: audience.Of(n), starts: starts, events: map[retoldKey]*Event{}}
}

// positions are the ids its events may stand at, ascending: where it
// became visible or was lost to someone, and its latest position. The
// look fans out one entry for each, in id order with the others.
func (r *retold) positions(n models.Notification) []int64 {
	ps := []int64{n.Position}
	for _, p := range r.starts[1:] {
		if !slices.Contains(ps, p) {
			ps = append(ps, p)
		}
	}
	slices.Sort(ps)
	return ps
}

// at is the look's entry for position pos.
func (r *retold) at(pos int64) retoldAt { return retoldAt{r, pos} }

// retoldAt is a retold change's entry at one position.
type retoldAt struct {
	r   *retold
	pos int64
}

// eventsFor appends viewer v's events at this entry's position, one per
// window that has one.
func (a retoldAt) eventsFor(evs []*Event, v audience.Viewer, _ Fields) []*Event {
	r := a.r
	for i, start := range r.starts {
		for _, told := range r.tl.Told(v, start) {
			kind := kindAfter(told, start)
			pos := told.Position
			if kind == kindNotification {
				pos = told.FirstPosition
			}
			if pos != a.pos {
				continue
			}
			if ev := r.event(i, kind, pos, told, v); ev != nil {
				evs = append(evs, ev)
			}
		}
	}
	return evs
}

// event is the change as kind at pos to viewer v, for window i, rendered
// once per view.
func (r *retold) event(i int, kind string, pos int64, told models.Notification, v audience.Viewer) *Event {
	key := retoldKey{window: i, kind: kind, pos: pos}
	if kind != kindWithdraw && told.AudienceID != nil {
		key.view, _ = r.to.View(v)
	}
	if ev, ok := r.events[key]; ok {
		return ev
	}
	ev, err := r.h.encode(r.ctx, audience.ShownTo(told, v), kind)
	if err != nil {
		r.h.log.Error("notification hub: render", "id", told.ID, "position", told.Position, "err", err)
	} else {
		if i > 0 {
			ev.onlyFrom = r.starts[i]
		}
		if i+1 < len(r.starts) {
			ev.onlyBefore = r.starts[i+1]
		}
	}
	r.events[key] = ev
	return ev
}
