package audience

import "beacon/app/models"

// A notification's audience may change (an edit's "to"), so what a client
// holds depends on when it last heard: AsOf and Told decide it from the
// audiences the notification had since the client's cursor.

// AsOf is n's state to viewer v, whose client had every change up to
// position after (n changed after it), or false when there is nothing to
// tell: n, when v sees it now; n withdrawn, when v held it at after
// (it had become visible by then to an audience with v in it) and no
// longer sees it; else nothing. A list says it so. n.AudienceChanges must
// hold every change of its audience after `after`, their Addressees
// loaded, and so must n's own.
func AsOf(n models.Notification, v Viewer, after int64) (models.Notification, bool) {
	t := TimelineOf(n)
	switch {
	case !n.Withdrawn() && t.spans[len(t.spans)-1].to.Sees(v):
		return n, true
	case t.held(v, after):
		return lost(n, n.Position), true
	}
	return n, false
}

// Timeline is a notification with its audiences over time, taken from it
// once (TimelineOf) for many viewers.
type Timeline struct {
	n     models.Notification
	spans []span
}

// TimelineOf is n's timeline, from n's AudienceChanges.
func TimelineOf(n models.Notification) Timeline { return Timeline{n, spansOf(n)} }

// Told is what a stream sends viewer v's client, which had every change up
// to position after, of the timeline's notification, in position order.
//
// If v sees it now: an event each time it became visible to v (n with
// FirstPosition there: a `notification`) or stopped being so (n withdrawn
// there: a `withdraw`), or, if neither happened and v held it throughout,
// n as it is (an `update`). Each stands where it happened, so that a
// client cut off anywhere resumes from an id at which it holds what the
// audience then chose, which is what a stream from there assumes.
//
// If v does not see it now: a `withdraw` where v first lost it, when v
// held it; else nothing. Its content now is for others, so v is never
// sent it, not even where v was in its audience for a while; a client cut
// off in such a while may later be sent a `withdraw` of an id it does not
// hold, which it ignores.
func (t Timeline) Told(v Viewer, after int64) []models.Notification {
	n := t.n
	held := t.held(v, after)
	if n.Withdrawn() || !t.spans[len(t.spans)-1].to.Sees(v) {
		if !held {
			return nil
		}
		for _, sp := range t.spans {
			if sp.from > after && !sp.to.Sees(v) {
				return []models.Notification{lost(n, sp.from)}
			}
		}
		return []models.Notification{n} // withdrawn while v saw it
	}
	var out []models.Notification
	for _, sp := range t.spans {
		if sp.from <= after {
			continue
		}
		if sees := sp.to.Sees(v); sees != held {
			held = sees
			if sees {
				gained := n
				gained.FirstPosition = sp.from
				out = append(out, gained)
			} else {
				out = append(out, lost(n, sp.from))
			}
		}
	}
	if len(out) == 0 { // held throughout
		out = append(out, n)
	}
	return out
}

// held reports whether a client of v at position after holds n: it had
// become visible by then, to an audience with v in it.
func (t Timeline) held(v Viewer, after int64) bool {
	return t.n.FirstPosition <= after && at(t.spans, after).Sees(v)
}

// lost is n as withdrawn to one who lost it at position pos.
func lost(n models.Notification, pos int64) models.Notification {
	if n.WithdrawnAt == nil {
		at := n.UpdatedAt
		n.WithdrawnAt = &at
	}
	n.Position = pos
	return n
}

// span is one stretch of a notification's life: from position from on
// (until the next span), addressed to to.
type span struct {
	from int64
	to   Audience
}

// spansOf is n's audiences since it became visible (as far back as its
// AudienceChanges go), oldest first; the last is its current one.
func spansOf(n models.Notification) []span {
	spans := make([]span, 0, len(n.AudienceChanges)+1)
	from := n.FirstPosition
	for _, c := range n.AudienceChanges {
		spans = append(spans, span{from, Of(models.Notification{
			RecipientID: c.RecipientID, AudienceID: c.AudienceID, Addressees: c.Addressees})})
		from = c.Position
	}
	return append(spans, span{from, Of(n)})
}

// at is the audience at position pos: that of the last span begun by then
// (the first span's for a position before it).
func at(spans []span, pos int64) Audience {
	i := len(spans) - 1
	for i > 0 && spans[i].from > pos {
		i--
	}
	return spans[i].to
}
