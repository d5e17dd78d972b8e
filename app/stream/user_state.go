package stream

import (
	"context"
	"slices"
)

// userSource is what a user's state is read from.
type userSource interface {
	UnreadCount(ctx context.Context, userID, through int64) (int64, error)
	GroupIDsOf(ctx context.Context, userID int64) ([]int64, error)
}

// userState is what a wake-up on a user's topic means to one of their
// streams.
type userState struct {
	end    bool   // the user's session is gone: the stream ends
	unread []byte // the unread count's frame
	// groups, when regrouped, are the user's groups now: the stream is
	// offered what they see by them from now on.
	groups    []int64
	regrouped bool
}

// userChange is the one rule for a stream served in its handler and one
// the hub took over: the stream ends when the user's session is gone
// (signedIn false; nil skips the check); else, when the user's groups are
// no longer groups, the stream is offered what the user sees by the new
// ones and sent `reset` (regroupedFrame), so that the client reloads by
// them; and it is sent the user's unread count, counted through position
// through, the last it sent or queued. regroup false skips the groups:
// the stream's first count, just after they were read.
func userChange(ctx context.Context, src userSource, signedIn func() bool, userID int64, groups []int64, regroup bool, through int64) (userState, error) {
	if signedIn != nil && !signedIn() {
		return userState{end: true}, nil
	}
	var st userState
	if regroup {
		now, err := src.GroupIDsOf(ctx, userID)
		if err != nil {
			return st, err
		}
		if !slices.Equal(now, groups) {
			st.groups, st.regrouped = now, true
		}
	}
	n, err := src.UnreadCount(ctx, userID, through)
	if err != nil {
		return st, err
	}
	st.unread = encodeUnread(n)
	return st, nil
}

// regroupedFrame is the `reset` a stream whose user's groups changed is
// sent, at through, the last position it sent or queued.
func regroupedFrame(through int64) []byte {
	return encodeEvent(through, "reset", encodeReset(through))
}
