package stream

import (
	"cmp"
	"context"
	"math"
	"slices"

	"beacon/app/models"
)

// maxStateChanges is the most state changes a stream is sent at once: a
// client further behind (or whose changes were pruned) gets `reset` and
// reloads instead.
const maxStateChanges = 1000

// userSource is what a user's state is read from.
type userSource interface {
	UnreadCount(ctx context.Context, userID, through int64) (int64, error)
	Membership(ctx context.Context, userID int64) (groups []int64, since int64, err error)
	StateChangesAfter(ctx context.Context, userID, after int64, limit int) ([]models.StateChange, int64, error)
	NotificationStates(ctx context.Context, userID int64, ids []int64) (read, archived []int64, err error)
}

// userState is what a wake-up on a user's topic means to one of their
// streams.
type userState struct {
	end    bool   // the user's session is gone: the stream ends
	unread []byte // the unread count's frame
	// state is the frames of the read and archive changes after the
	// stream's number (or, when those are gone, a reset); stateSeq is the
	// number it holds once sent them.
	state    []byte
	stateSeq int64
	// regrouped: the stream is offered what the user sees by new groups
	// from now on, and is reset (regroupedFrame).
	regrouped bool
}

// userLook is one answer to a wake-up on a user's topic, shared by that
// user's streams on this instance: they read the same groups, the same
// counts (by the position they count through) and the same state
// changes, so that many tabs cost a few queries, not a few each.
type userLook struct {
	ctx    context.Context
	src    userSource
	userID int64
	// from is the lowest state number a stream of this look holds (-1:
	// one starting from now): the changes are read once, after it.
	from int64

	groups      []int64
	groupsSince int64 // the position of the change they follow
	groupsRead  bool
	counts      map[int64][]byte // unread frames by through
	changes     []models.StateChange
	newest      int64
	read        bool
	frames      map[int64][]byte // state frames by the number after which
}

func newUserLook(ctx context.Context, src userSource, userID, from int64) *userLook {
	return &userLook{ctx: ctx, src: src, userID: userID, from: from}
}

func (l *userLook) membership() ([]int64, int64, error) {
	if !l.groupsRead {
		g, since, err := l.src.Membership(l.ctx, l.userID)
		if err != nil {
			return nil, 0, err
		}
		l.groups, l.groupsSince, l.groupsRead = g, since, true
	}
	return l.groups, l.groupsSince, nil
}

func (l *userLook) unread(through int64) ([]byte, error) {
	if f, ok := l.counts[through]; ok {
		return f, nil
	}
	n, err := l.src.UnreadCount(l.ctx, l.userID, through)
	if err != nil {
		return nil, err
	}
	if l.counts == nil {
		l.counts = make(map[int64][]byte, 1)
	}
	l.counts[through] = encodeUnread(n)
	return l.counts[through], nil
}

// stateAfter is the frames of the changes after number after (-1: none,
// the stream starts from now), the number they bring the stream to, and
// whether some are missing (pruned, too many, or after is no number the
// user reached): the stream is then reset instead.
func (l *userLook) stateAfter(after int64) (frames []byte, newest int64, lost bool, err error) {
	if !l.read {
		from := l.from
		if from < 0 {
			from = math.MaxInt64 // only the newest number
		}
		l.changes, l.newest, err = l.src.StateChangesAfter(l.ctx, l.userID, from, maxStateChanges)
		if err != nil {
			return nil, 0, false, err
		}
		l.read = true
	}
	if after < 0 {
		return nil, l.newest, false, nil
	}
	if f, ok := l.frames[after]; ok {
		return f, l.newest, f == nil && after != l.newest, nil
	}
	i, _ := slices.BinarySearchFunc(l.changes, after, func(c models.StateChange, seq int64) int { return cmp.Compare(c.Seq, seq) })
	cs := l.changes[i:]
	if len(cs) > 0 && cs[0].Seq == after {
		cs = cs[1:]
	}
	if int64(len(cs)) != l.newest-after {
		lost = true
	} else {
		frames = encodeState(cs)
	}
	if l.frames == nil {
		l.frames = make(map[int64][]byte, 1)
	}
	l.frames[after] = frames
	return frames, l.newest, lost, nil
}

// userChange is the one rule for a stream served in its handler and one
// the hub took over: the stream ends when the user's session is gone
// (signedIn false; nil skips the check); else the user's groups go to
// regroup (the hub's regroup or regroupConn), which moves the stream to
// them and reports whether it is to be sent `reset` (regroupedFrame), so
// that the client reloads by them; it is sent the user's read and archive
// changes after stateSeq, the number it holds (-1: from now on); and it
// is sent the user's unread count, counted through position through, the
// last it sent or queued. A nil regroup skips the groups: the stream's
// first count, just after they were read.
func userChange(look *userLook, signedIn func() bool, regroup func(groups []int64, since int64) bool, through, stateSeq int64) (userState, error) {
	if signedIn != nil && !signedIn() {
		return userState{end: true}, nil
	}
	var st userState
	if regroup != nil {
		now, since, err := look.membership()
		if err != nil {
			return st, err
		}
		st.regrouped = regroup(now, since)
	}
	frames, newest, lost, err := look.stateAfter(stateSeq)
	if err != nil {
		return st, err
	}
	st.state, st.stateSeq = frames, newest
	if lost && !st.regrouped { // a regrouped stream is reset anyway
		st.state = regroupedFrame(through)
	}
	if st.unread, err = look.unread(through); err != nil {
		return st, err
	}
	return st, nil
}

// regroupedFrame is the `reset` a stream whose user's groups changed, or
// whose state changes it cannot be sent, is sent at through, the last
// position it sent or queued.
func regroupedFrame(through int64) []byte {
	return encodeEvent(through, "reset", encodeReset(through))
}

// replayedState is the `state` events that say which of the notifications
// a replay sent are read, and which archived (nil when none is either):
// the others are unread and in the feed.
func (h *Hub) replayedState(ctx context.Context, userID int64, replayed []*Event) ([]byte, error) {
	var ids []int64
	for _, ev := range replayed {
		if ev.notification != 0 && !slices.Contains(ids, ev.notification) {
			ids = append(ids, ev.notification)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	read, archived, err := h.source.NotificationStates(ctx, userID, ids)
	if err != nil {
		return nil, err
	}
	var cs []models.StateChange
	for _, id := range read {
		cs = append(cs, models.StateChange{Kind: models.StateRead, NotificationID: id, Value: true})
	}
	for _, id := range archived {
		cs = append(cs, models.StateChange{Kind: models.StateArchived, NotificationID: id, Value: true})
	}
	if len(cs) == 0 {
		return nil, nil
	}
	return encodeState(cs), nil
}
