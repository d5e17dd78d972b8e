package stream

import "context"

// unreadCounter is what a user's state is read from.
type unreadCounter interface {
	UnreadCount(ctx context.Context, userID, through int64) (int64, error)
}

// userChange is what a wake-up on a user's topic means to one of their
// streams, the one rule for a stream served in its handler and one the hub
// took over: the stream ends when the user's session is gone (signedIn
// false; nil skips the check), else it is sent the user's unread count,
// counted through position through, the last it sent or queued.
func userChange(ctx context.Context, src unreadCounter, signedIn func() bool, userID, through int64) (end bool, frames [][]byte, err error) {
	if signedIn != nil && !signedIn() {
		return true, nil, nil
	}
	n, err := src.UnreadCount(ctx, userID, through)
	if err != nil {
		return false, nil, err
	}
	return false, [][]byte{encodeUnread(n)}, nil
}
