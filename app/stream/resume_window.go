package stream

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"

	"beacon/app/audience"
	"beacon/app/models"
)

// The resume window: the hub keeps the latest state of the notifications
// behind its most recent changes, so that a stream resuming from a cursor
// the window covers is replayed from memory. After a deploy thousands of
// browsers come back within seconds, and the database then answers a
// bounded number of queries instead of four each.

// resumeWindowSize is how many notifications the window holds, and how
// many positions before the newest it covers when the hub starts.
const resumeWindowSize = 2048

// resumeWindow holds, for every notification whose latest change the hub
// fanned out at a position in (floor, top], that latest state: each
// notification once, at its latest position. It covers a cursor in
// [floor, top]: every change after it is either here or still to be fanned
// out, and so queued to a stream that subscribed first.
type resumeWindow struct {
	size int

	mu    sync.RWMutex
	floor int64
	top   int64
	slots []resumeSlot    // by ascending position; e is nil where one moved on
	live  map[int64]int64 // notification id → its position in slots
	count int             // slots with an entry

	pruned prunedCache
}

type resumeSlot struct {
	pos int64
	e   *resumeEntry
}

// resumeEntry is one notification's latest state and its frames, rendered
// once per kind when first wanted (the hub's own frame is kept as it is).
// Replays share them: neither changes once set.
type resumeEntry struct {
	n      models.Notification
	to     audience.Audience
	frames [3]atomic.Pointer[Event] // by kindIndex; none for one addressed to a list
}

// newResumeWindow returns a window of size notifications (0 means
// resumeWindowSize; a negative size keeps none, and every replay reads the
// database), filled with the changes up to cursor, where the hub starts.
func newResumeWindow(ctx context.Context, source Source, cursor int64, size int, log *slog.Logger) *resumeWindow {
	switch {
	case size < 0:
		return nil
	case size == 0:
		size = resumeWindowSize
	}
	w := &resumeWindow{size: size, live: make(map[int64]int64)}
	w.fill(ctx, source, cursor, log)
	return w
}

// fill loads the changes at the size positions up to cursor, the hub's
// starting point, so that clients coming back after a restart are covered
// from their first request on. Without them (a database error) it covers
// from cursor on.
func (w *resumeWindow) fill(ctx context.Context, source Source, cursor int64, log *slog.Logger) {
	from := max(0, cursor-int64(w.size))
	// At most size rows stand at those positions: one row per position.
	ns, err := source.AllChangesAndWithdrawalsAfter(ctx, from, w.size)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.floor, w.top = cursor, cursor
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("notification hub: fill the resume window; it covers new changes only", "err", err)
		}
		return
	}
	w.floor = from
	for _, n := range ns {
		// One that moved past cursor meanwhile comes with the hub's first load.
		if n.Position <= cursor {
			w.put(n, nil)
		}
	}
}

// add records a change the hub is about to fan out, with the events it
// rendered for it (empty when they are rendered per viewer, later); nil
// (it could not render them) leaves a hole that
// replays from before it take to the database. It must come before the
// fan-out: a stream that read the window before it then subscribed before
// it too, and so gets it live.
func (w *resumeWindow) add(n models.Notification, ems []emission) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if ems == nil || n.Position <= w.top {
		// A hole, or out of order (never expected): cover from here on only.
		w.slots, w.count, w.floor = nil, 0, max(w.top, n.Position)
		w.top = w.floor
		clear(w.live)
		return
	}
	w.put(n, ems)
	w.top = n.Position
	for w.count > w.size {
		w.evictOldest()
	}
}

// put makes n the latest state of its notification, at n.Position, after
// every slot held.
func (w *resumeWindow) put(n models.Notification, ems []emission) {
	if old, ok := w.live[n.ID]; ok {
		i := w.index(old)
		w.slots[i].e = nil
		w.count--
	}
	e := &resumeEntry{n: n, to: audience.Of(n)}
	if n.AudienceID == nil { // else each viewer has a view of its own
		for _, em := range ems {
			e.frames[kindIndex(em.kind)].Store(em.ev)
		}
	}
	w.slots = append(w.slots, resumeSlot{pos: n.Position, e: e})
	w.live[n.ID] = n.Position
	w.count++
	if len(w.slots) > 2*w.count+64 {
		w.compact()
	}
}

// index is the slot at position pos, or the first one after it.
func (w *resumeWindow) index(pos int64) int {
	return sort.Search(len(w.slots), func(i int) bool { return w.slots[i].pos >= pos })
}

// evictOldest lets the oldest notification go: cursors before it are no
// longer covered.
func (w *resumeWindow) evictOldest() {
	for i, s := range w.slots {
		if s.e == nil {
			continue
		}
		w.floor = s.pos
		delete(w.live, s.e.n.ID)
		w.count--
		w.slots = w.slots[i+1:]
		return
	}
}

// compact drops the slots of notifications that moved on.
func (w *resumeWindow) compact() {
	kept := make([]resumeSlot, 0, 2*w.count)
	for _, s := range w.slots {
		if s.e != nil {
			kept = append(kept, s)
		}
	}
	w.slots = kept
}

// replay is the hub's replay from memory: for a cursor the window covers,
// the frames the database's replay would send (every notification user
// userID may see that changed after it, once, in its latest state, in
// position order, of the kind it is to that client) and the position live
// events continue after. ok is false when the window cannot answer for
// certain (no cursor, not a position, not covered, pruned, past what this
// viewer may see, too far behind for a replay, a frame that would not
// render): the database's replay then decides, and it says why.
func (w *resumeWindow) replay(ctx context.Context, h *Hub, v audience.Viewer, lastEventID string) (evs []*Event, sent int64, ok bool) {
	if w == nil || lastEventID == "" {
		return nil, 0, false
	}
	after, ok := parseID(lastEventID)
	if !ok || !h.fanout.awaitFanout(ctx) || !w.covers(after) {
		return nil, 0, false
	}
	pruned, err := w.pruned.get(ctx, h.source)
	if err != nil || after < pruned {
		return nil, 0, false
	}
	entries, top, ok := w.changesAfter(v, after, pruned)
	if !ok {
		return nil, 0, false
	}
	evs = make([]*Event, 0, len(entries))
	for _, e := range entries {
		ev, err := e.frame(ctx, h, kindAfter(e.n, after), v)
		if err != nil {
			return nil, 0, false
		}
		evs = append(evs, ev)
	}
	return inIDOrder(evs), top, true
}

func (w *resumeWindow) covers(after int64) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.floor <= after && after <= w.top
}

// changesAfter picks, as the database's ChangesAfter does, what a client
// of user userID at position after has not had; withdrawals of ones new
// to it are left out. ok is false unless the cursor is covered, nothing
// after it was readdressed after it, some
// change this viewer may see stands at or after it (else the database
// tells whether it is one this viewer's stream could have sent), and the
// replay is at most maxReplay events.
func (w *resumeWindow) changesAfter(v audience.Viewer, after, pruned int64) (entries []*resumeEntry, top int64, ok bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if after < w.floor || after > w.top {
		return nil, 0, false
	}
	i := w.index(after)
	visible := after <= pruned
	for _, s := range w.slots[i:] {
		e := s.e
		if e == nil {
			continue
		}
		if e.n.AudiencePosition > after {
			// Readdressed since: what the client holds is the database's
			// to tell (store.ReplayAfter), also for one who lost it.
			return nil, 0, false
		}
		if !e.to.Sees(v) {
			continue
		}
		visible = true
		if s.pos == after || e.n.Withdrawn() && e.n.NewAfter(after) {
			continue
		}
		if entries = append(entries, e); len(entries) > maxReplay {
			return nil, 0, false
		}
	}
	if !visible {
		return nil, 0, false
	}
	return entries, w.top, true
}

// frame is e's frame as kind, rendered the first time it is wanted; for
// one addressed to a list, as viewer v is shown it, each time.
func (e *resumeEntry) frame(ctx context.Context, h *Hub, kind string, v audience.Viewer) (*Event, error) {
	if e.n.AudienceID != nil {
		return h.encode(ctx, audience.ShownTo(e.n, v), kind)
	}
	slot := &e.frames[kindIndex(kind)]
	if ev := slot.Load(); ev != nil {
		return ev, nil
	}
	ev, err := h.encode(ctx, e.n, kind)
	if err != nil {
		return nil, err
	}
	if !slot.CompareAndSwap(nil, ev) {
		return slot.Load(), nil
	}
	return ev, nil
}

func kindIndex(kind string) int {
	switch kind {
	case kindUpdate:
		return 1
	case kindWithdraw:
		return 2
	}
	return 0
}
