package stream

import (
	"errors"
	"net"
	"os"
	"sync"
	"time"
)

// fallbackWait bounds one write to a connection that cannot be written
// without waiting (one that is not a plain socket).
const fallbackWait = 2 * time.Millisecond

// streamConn is a stream whose connection the hub took over: the hub's
// broadcast queues frames on it, a shared writer writes them.
type streamConn struct {
	conn     net.Conn
	sock     *socket // nil: not a plain socket, written with a short deadline
	userID   int64
	groups   []int64 // the user's groups, under the hub's mu (see regroupTo)
	groupsAt int64   // the position of the change of membership they follow
	fields   Fields
	signedIn func() bool  // nil for visitors
	watch    *userWatch   // nil for visitors; set before the hub shares c
	ended    func()       // Request.TakenOver's release, or nil
	hangups  *hangupWatch // the hub's, or nil; hangupID is c's id in it
	hangupID uint64       // under hangups.mu
	start    int64        // where its replay ended: see Event.For

	mu        sync.Mutex
	pending   []*Event
	spare     []*Event  // pending's other buffer, so queuing allocates nothing
	rest      []byte    // the tail of a write the socket did not take
	stalled   time.Time // since when rest has waited; zero when none
	wrote     time.Time // the last write; zero before the first
	last      int64     // the newest id queued or sent
	stateSeq  int64     // the user's newest state change queued (userState)
	scheduled bool      // queued for, or held by, a writer
	closed    bool
}

// burstLimit is how many frames a connection whose socket takes all it
// is given may have pending while the hub fans out a look of burst events:
// it offers them in one loop, faster than a writer comes round, and a
// client that reads is not cut off for that (a look after a batch of posts
// may hold thousands). Past it, or past limit while its socket refuses more
// (it does not read), the connection is let go. Pending frames are
// pointers, mostly to frames every stream shares.
func burstLimit(limit, burst int) int { return max(limit+burst, 2*fetchBatch) }

// queue adds ev, one of a look of burst events, unless the connection is
// behind (see burstLimit) or was sent ev already; it reports whether it
// took ev and whether c must be handed to a writer.
// Called with c.mu held.
func (c *streamConn) queue(ev *Event, limit, burst int) (took, schedule bool) {
	if c.closed || len(c.pending) >= limit && (len(c.rest) > 0 || len(c.pending) >= burstLimit(limit, burst)) {
		return false, false
	}
	if ev.ID != 0 && ev.ID <= c.last {
		// The replay read it from the database before the hub fanned it
		// out: already sent.
		return true, false
	}
	c.pending = append(c.pending, ev)
	c.last = max(c.last, ev.ID)
	if c.scheduled {
		return true, false
	}
	c.scheduled = true
	return true, true
}

// close ends the connection once; it reports whether this call did.
func (c *streamConn) close() bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.closed = true
	c.pending, c.spare, c.rest = nil, nil, nil
	c.mu.Unlock()
	if c.hangups != nil {
		c.hangups.forget(c)
	}
	_ = c.conn.Close()
	if c.ended != nil {
		c.ended()
	}
	return true
}

// writeNow writes as much of p as the socket takes without waiting.
func (c *streamConn) writeNow(p []byte) (int, error) {
	if c.sock != nil {
		return c.sock.write(p)
	}
	_ = c.conn.SetWriteDeadline(time.Now().Add(fallbackWait))
	n, err := c.conn.Write(p)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = nil
	}
	return n, err
}
