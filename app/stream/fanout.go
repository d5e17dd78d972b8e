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
func (h *Hub) deliverAfter(ctx context.Context, cursor int64) (int64, error) {
	before := cursor
	var out []fanned
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
		for _, n := range ns {
			to := audience.Of(n)
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
				out = append(out, fanned{em, n.ID, to, each, i})
			}
			cursor = n.Position
		}
		if len(ns) < fetchBatch {
			h.fan(out)
			return cursor, nil
		}
	}
}

// fanned is one event of a look, with what its fan-out needs.
type fanned struct {
	emission
	id int64 // the notification's
	to audience.Audience
	// each, for one addressed to a list, renders the event per viewer: it
	// is the i-th of the change's events.
	each *variants
	i    int
}

// fan offers the look's events in id order.
func (h *Hub) fan(out []fanned) {
	slices.SortStableFunc(out, func(a, b fanned) int { return cmp.Compare(a.ev.ID, b.ev.ID) })
	for _, f := range out {
		took := h.broadcastEach(f.ev, f.each, f.i, f.to, true)
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
	return h.broadcastEach(ev, nil, 0, to, evict)
}

// broadcastEach is broadcast, with ev rendered per viewer by each when set
// (its i-th event).
func (h *Hub) broadcastEach(ev *Event, each *variants, i int, to audience.Audience, evict bool) int {
	sent, behind := h.offerLocked(ev, each, i, to, evict)
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
func (h *Hub) offerLocked(ev *Event, each *variants, i int, to audience.Audience, evict bool) (int, []*streamConn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.offer(ev, each, i, to, evict)
}

// offer is broadcast under h.mu; it returns the taken-over connections it
// let go, for broadcast to close outside the lock.
func (h *Hub) offer(ev *Event, each *variants, i int, to audience.Audience, evict bool) (sent int, behind []*streamConn) {
	ready := h.readyBuf[:0]
	for c := range h.conns {
		e := ev
		if each == nil {
			if !to.Sees(audience.Member(c.userID, c.groups)) {
				continue
			}
		} else if e = each.eventFor(i, to, audience.Member(c.userID, c.groups), c.fields); e == nil {
			continue
		}
		e = e.For(c.start)
		if e == nil {
			continue
		}
		c.mu.Lock()
		took, schedule := c.queue(e, h.opts.QueueSize)
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
		e := ev
		if each == nil {
			if !to.Sees(s.viewer()) {
				continue
			}
		} else if e = each.eventFor(i, to, s.viewer(), s.fields); e == nil {
			continue
		}
		select {
		case s.queue <- e:
			sent++
		default:
			if evict {
				delete(h.subs, s)
				s.drop()
			}
		}
	}
	return sent, behind
}
