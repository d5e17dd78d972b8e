package stream

import (
	"cmp"
	"context"
	"slices"

	"beacon/app/audience"
)

// deliverAfter fans out every change after cursor and returns the new
// cursor. On a database error it returns the error and the cursor as far as
// it got; Run retries.
//
// Each change is classified against the cursor as it was before this look
// (encodeAfter), and the look's events go out in the order of their id:
// lines, once every change is loaded, since the first event of a
// notification new to the hub stands at its first position, maybe before
// changes an earlier batch loaded. Deliveries count first deliveries only.
// A notification readdressed since the cursor is told per viewer
// (retold.go), and a change of membership among the look's positions
// regroups its user's streams there (regroupsBetween).
func (h *Hub) deliverAfter(ctx context.Context, cursor int64) (int64, error) {
	before := cursor
	var out []fanned
	var loaded int64 // rows, each at a position of its own
	for {
		ns, err := h.source.AllChangesAndWithdrawalsAfter(ctx, cursor, fetchBatch)
		if err != nil {
			if ctx.Err() != nil {
				return cursor, nil
			}
			h.log.Error("notification hub: load", "after", cursor, "err", err)
			h.fan(out) // what loaded fine goes; the rest is retried
			return cursor, err
		}
		loaded += int64(len(ns))
		for _, n := range ns {
			to := audience.Of(n)
			if n.AudiencePosition > before {
				// Readdressed since: each viewer has events of their own.
				r := newRetold(ctx, h, n, before)
				h.resume.add(n, []emission{})
				for _, pos := range r.positions(n) {
					out = append(out, fanned{emission: emission{"", &Event{ID: pos}}, id: n.ID, to: to, each: r.at(pos)})
				}
				cursor = n.Position
				continue
			}
			var each *variants
			if n.AudienceID != nil {
				each = newVariants(ctx, h, n, to, before)
			}
			ems, err := h.encodeAfter(ctx, shownToNobody(n), before)
			if err != nil && ctx.Err() != nil {
				// Shutting down: n is not passed over, whoever resumes
				// elsewhere replays it.
				h.fan(out)
				return cursor, nil
			}
			h.resume.add(n, ems) // before the fan-out: resume_window.go says why
			if err != nil {
				h.log.Error("notification hub: render", "id", n.ID, "position", n.Position, "err", err)
			}
			if each != nil {
				each.common = ems
			}
			for i, em := range ems {
				f := fanned{emission: em, id: n.ID, to: to}
				if each != nil {
					f.each = variant{each, i}
				}
				out = append(out, f)
			}
			cursor = n.Position
		}
		if len(ns) < fetchBatch {
			if loaded < cursor-before {
				out = h.regroupsBetween(ctx, out, before, cursor)
			}
			h.fan(out)
			return cursor, nil
		}
	}
}

// regroupsBetween adds to a look's events the changes of membership that
// reserved a position in (before, cursor]: each user's streams are moved to
// their groups now, and sent `reset`, at that position, before any change
// past it goes out by the old groups. (The user's topic says so too, but
// maybe after those changes went out: a client cut off in between would
// resume from past the change holding what the old groups chose.) Without
// them (a database error) that wake-up still regroups the streams.
// deliverAfter does not ask when its rows took every position in the
// range, leaving none for a change of membership: under a stream of posts
// that is most looks, one statement each.
func (h *Hub) regroupsBetween(ctx context.Context, out []fanned, before, cursor int64) []fanned {
	if cursor <= before {
		return out
	}
	cs, err := h.source.RegroupedBetween(ctx, before, cursor)
	if err != nil {
		if ctx.Err() == nil {
			h.log.Error("notification hub: membership changes", "after", before, "err", err)
		}
		return out
	}
	groups := map[int64][]int64{}
	for _, c := range cs {
		g, ok := groups[c.UserID]
		if !ok {
			if g, err = h.source.GroupIDsOf(ctx, c.UserID); err != nil {
				if ctx.Err() == nil {
					h.log.Error("notification hub: membership changes", "user", c.UserID, "err", err)
				}
				continue
			}
			groups[c.UserID] = g
		}
		out = append(out, fanned{emission: emission{ev: &Event{ID: c.Position}}, regroup: &regroupMark{c.UserID, g, c.Position}})
	}
	return out
}

// regroupMark is a change of a user's groups, in a look's events.
type regroupMark struct {
	userID int64
	groups []int64 // the user's now, maybe after later changes too
	at     int64   // the change's position
}

// fanned is one event of a look, with what its fan-out needs.
type fanned struct {
	emission
	id int64 // the notification's
	to audience.Audience
	// each, when set, renders the event per viewer (for one addressed to a
	// list, or readdressed); ev then stands for its id alone.
	each perViewer
	// regroup, when set, is a change of membership at ev's id (which
	// stands for it alone).
	regroup *regroupMark
}

// perViewer is an event rendered per viewer.
type perViewer interface {
	// eventsFor appends to evs the events viewer v, whose stream asked for
	// fields, is sent: none when it sees nothing of it, several when they
	// are for different ends of a replay (Event.For).
	eventsFor(evs []*Event, v audience.Viewer, fields Fields) []*Event
}

// fan offers the look's events in id order.
func (h *Hub) fan(out []fanned) {
	slices.SortStableFunc(out, func(a, b fanned) int { return cmp.Compare(a.ev.ID, b.ev.ID) })
	for _, f := range out {
		if f.regroup != nil {
			h.regroupUser(f.regroup.userID, f.regroup.groups, f.regroup.at)
			continue
		}
		took := h.broadcastEach(f.ev, f.each, f.to, true, len(out))
		if f.kind == kindNotification && took > 0 {
			// Written by writeCounts, so that the write never delays a
			// fan-out or a post.
			h.counts.add(f.id, took)
		}
	}
}

// broadcast offers ev to every subscription in its audience (and, for a
// taken-over stream, that Event.For sends it to) and returns how many took
// it. A subscription whose queue is full is
// dropped when evict is set; a heartbeat is simply skipped.
func (h *Hub) broadcast(ev *Event, to audience.Audience, evict bool) int {
	return h.broadcastEach(ev, nil, to, evict, 1)
}

// broadcastEach is broadcast, with ev rendered per viewer by each when
// set, as one of a look of burst events.
func (h *Hub) broadcastEach(ev *Event, each perViewer, to audience.Audience, evict bool, burst int) int {
	sent, behind := h.offerLocked(ev, each, to, evict, burst)
	for _, c := range behind {
		c.close()
		h.users.unwatch(c)
	}
	return sent
}

// pushBatch is how many connections offer hands to the writers at
// once: they start writing while it visits the rest.
const pushBatch = 256

// offerLocked is offer under h.mu, released however offer ends: a panic
// must stop the process, not leave the hub locked for its deferred
// shutdown to wait on forever.
func (h *Hub) offerLocked(ev *Event, each perViewer, to audience.Audience, evict bool, burst int) (int, []*streamConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.offer(ev, each, to, evict, burst)
}

// offer is broadcast under h.mu; it returns the taken-over connections it
// let go, for broadcast to close outside the lock.
func (h *Hub) offer(ev *Event, each perViewer, to audience.Audience, evict bool, burst int) (sent int, behind []*streamConn) {
	ready := h.readyBuf[:0]
	for c := range h.conns {
		var e *Event
		if each == nil {
			if !to.Sees(audience.Member(c.userID, c.groups)) {
				continue
			}
			e = ev.For(c.start)
		} else {
			// Their windows do not overlap: one at most is for c.
			h.eventBuf = each.eventsFor(h.eventBuf[:0], audience.Member(c.userID, c.groups), c.fields)
			for _, x := range h.eventBuf {
				if e = x.For(c.start); e != nil {
					break
				}
			}
		}
		if e == nil {
			continue
		}
		c.mu.Lock()
		took, schedule := c.queue(e, h.opts.QueueSize, burst)
		c.mu.Unlock()
		switch {
		case schedule:
			if ready = append(ready, c); len(ready) == pushBatch {
				h.writers.push(ready...)
				clear(ready)
				ready = ready[:0]
			}
			fallthrough
		case took:
			sent++
		case evict:
			delete(h.conns, c)
			behind = append(behind, c)
		}
	}
	h.writers.push(ready...)
	clear(ready)
	h.readyBuf = ready[:0]
	// A subscription still replaying picks from ev with Event.For itself,
	// once it knows where its replay ended.
	for s := range h.subs {
		if each == nil {
			if !to.Sees(s.viewer()) {
				continue
			}
			h.eventBuf = append(h.eventBuf[:0], ev)
		} else {
			h.eventBuf = each.eventsFor(h.eventBuf[:0], s.viewer(), s.fields)
		}
		for _, e := range h.eventBuf {
			if !h.queueSub(s, e, evict) {
				break
			}
			sent++
		}
	}
	clear(h.eventBuf)
	return sent, behind
}

// queueSub queues e on s, still replaying, or reports false when s's queue
// is full (and drops s when evict is set).
func (h *Hub) queueSub(s *Subscription, e *Event, evict bool) bool {
	select {
	case s.queue <- e:
		return true
	default:
		if evict {
			delete(h.subs, s)
			s.drop()
		}
		return false
	}
}
