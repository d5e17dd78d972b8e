package stream

import (
	"context"

	"beacon/app/audience"
	"beacon/app/models"
)

// variants are the events of a change to a notification addressed to a
// list of users and groups. What a viewer is told of its audience differs
// (audience.ShownTo: their own email, the groups they are in), so each
// distinct view is rendered once, when the first stream that has it is
// offered the change. Used by the hub's goroutine under h.mu only.
type variants struct {
	h      *Hub
	ctx    context.Context
	n      models.Notification
	to     audience.Audience
	before int64                           // the hub's cursor before the look (encodeAfter)
	views  map[audience.ViewKey][]emission // shared by the change's events
	// common are the events as no viewer in particular is shown them
	// (shownToNobody): what a stream that asked for HTMLFields gets, whose
	// data ({"id","html"}) says nothing of the audience.
	common []emission
}

func newVariants(ctx context.Context, h *Hub, n models.Notification, to audience.Audience, before int64) *variants {
	return &variants{h: h, ctx: ctx, n: n, to: to, before: before, views: map[audience.ViewKey][]emission{}}
}

// event is the i-th of the change's events (as encodeAfter orders them) as
// viewer v, whose key for the audience is key, is shown it; nil when it
// would not render.
func (vs *variants) event(i int, key audience.ViewKey, v audience.Viewer) *Event {
	ems, ok := vs.views[key]
	if !ok {
		var err error
		if ems, err = vs.h.encodeAfter(vs.ctx, audience.ShownTo(vs.n, v), vs.before); err != nil {
			vs.h.log.Error("notification hub: render", "id", vs.n.ID, "position", vs.n.Position, "err", err)
		}
		vs.views[key] = ems
	}
	if i >= len(ems) {
		return nil
	}
	return ems[i].ev
}

// eventFor is event for a viewer v of the audience to, whose stream asked
// for fields; nil when v does not see it.
func (vs *variants) eventFor(i int, to audience.Audience, v audience.Viewer, fields Fields) *Event {
	key, sees := to.View(v)
	switch {
	case !sees:
		return nil
	case fields == HTMLFields && i < len(vs.common):
		return vs.common[i].ev
	}
	return vs.event(i, key, v)
}

// variant is the i-th of a change's events, rendered per viewer.
type variant struct {
	vs *variants
	i  int
}

func (x variant) eventsFor(evs []*Event, v audience.Viewer, fields Fields) []*Event {
	if e := x.vs.eventFor(x.i, x.vs.to, v, fields); e != nil {
		evs = append(evs, e)
	}
	return evs
}

// shownToNobody is n as no viewer in particular is shown it: for the
// positions and kinds of its events, which are the same in every view.
func shownToNobody(n models.Notification) models.Notification {
	return audience.ShownTo(n, audience.Viewer{})
}
