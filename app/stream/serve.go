package stream

import (
	"context"
	"math"
	"math/rand/v2"
	"net/http"
	"time"

	"beacon/app/broker"
)

// writeTimeout bounds one write to a stream: a browser that stops reading
// is cut off instead of holding its handler forever.
// It is shorter than the shutdown grace period, so a stalled stream
// cannot hold a shutdown past it.
const writeTimeout = 5 * time.Second

// Request is what a stream needs to know about its client.
type Request struct {
	UserID int64 // 0 for a visitor
	// LastEventID is the id the client last saw, as sent; "" when it sent none.
	LastEventID string
	// StateAfter is the number of the user's read and archive changes the
	// client holds, as sent (the feed page renders it, and asks for those
	// after it with ?state_after=); "" when it sent none: it is sent those
	// made from now on. One that is not a number it could hold is reset.
	StateAfter string
	// Fields is what its notification and update events carry, the replay's
	// as much as the live ones'.
	Fields Fields
	// SignedIn reports whether the user's session still exists; asked when
	// the user's topic wakes, so a stream ends when its user signs out and
	// the browser reconnects as whoever it now is.
	SignedIn func() bool
	// Request is the stream's request, when it came over HTTP: on a plain
	// HTTP/1.x connection the hub takes the connection over once the
	// replay is written. nil keeps the stream in its handler.
	Request *http.Request
	// TakenOver, when set, is called as the hub takes the connection over
	// (the handler then returns while the stream goes on); the function it
	// returns is called once when that stream ends. It lets a per-request
	// lease (a connection limit) last as long as the connection.
	TakenOver func() (release func())

	groups []int64 // the user's, as the stream began
	// regroupedAt is the position reserved when the user's groups last
	// changed: a cursor before it holds what other groups chose (replay).
	regroupedAt int64
}

// Stream serves the notification stream to w until ctx ends, the client
// goes away, or the hub drops the subscription. Write errors end it
// quietly: a closed tab is no failure.
//
// Order matters for "no gap, no duplicate": subscribe first, so every
// notification delivered from now on is queued; then replay from the
// database; then send what queued, skipping ids the replay already sent.
//
// A signed-in user's stream also carries their unread count (event:
// unread) after the replay and whenever they mark some read. The count
// covers ids up to the last one this stream sent; the page adds one for
// each notification that arrives after it, so the two always add up.
// Before each count go their read and archive changes (event: state)
// since the stream's last look, or since Request.StateAfter.
//
// On a plain HTTP/1.x connection, once the replay is written, the hub takes
// the connection over (see adopt) and Stream returns: an idle stream then
// costs no goroutine. Otherwise (HTTP/2, test recorders) it serves the
// stream here until it ends.
func (h *Hub) Stream(ctx context.Context, w http.ResponseWriter, req Request) error {
	rc := http.NewResponseController(w)
	setStreamHeaders(w.Header())
	takeOver := canTakeOver(w, req.Request)
	if takeOver {
		// No chunked encoding: the body runs until the connection closes
		// (net/http then sends "Connection: close"), so once the hub owns
		// the socket it writes frames to it as they are.
		w.Header().Set("Transfer-Encoding", "identity")
	}
	w.WriteHeader(http.StatusOK)

	sub := h.subscribe(req.UserID, nil, req.Fields)
	defer h.Unsubscribe(sub)
	// Visitors have no read state: a nil channel never fires.
	var reads <-chan struct{}
	var rs *broker.Subscription
	if req.UserID != 0 {
		rs = h.broker.Subscribe(broker.UserTopic(req.UserID))
		defer rs.Close()
		reads = rs.C()
	}
	// The user's groups, read once the user's topic is followed: a change
	// of membership is written before its wake-up, which userChange then
	// compares with them. Until now sub was offered only what the user sees
	// in no group: what it missed had committed, and the replay reads it.
	var groups []int64
	if req.UserID != 0 {
		var err error
		if groups, req.regroupedAt, err = h.source.Membership(ctx, req.UserID); err != nil {
			return err
		}
		h.regroup(sub, groups)
		req.groups = groups
	}

	out := &streamWriter{w: w, rc: rc}
	out.add(retryFrame(h.opts.Retry))
	sent, replayed, err := h.replay(ctx, out, req)
	if err != nil {
		return err
	}
	if req.UserID != 0 && req.StateAfter == "" {
		// A client that names no state number is told the state of what
		// it was replayed: its read and archived ones.
		frame, err := h.replayedState(ctx, req.UserID, replayed)
		if err != nil {
			return err
		}
		if frame != nil {
			out.add(frame)
		}
	}
	// userChanged answers a wake-up on the user's topic (and the first
	// look, after the replay): it ends the stream, or queues what changed.
	stateSeq := int64(-1) // from now on
	if req.StateAfter != "" {
		var ok bool
		if stateSeq, ok = parseID(req.StateAfter); !ok {
			stateSeq = math.MaxInt64 // past every number: reset
		}
	}
	userChanged := func(signedIn func() bool, regroup bool) (end bool, err error) {
		look := newUserLook(ctx, h.source, req.UserID, stateSeq)
		st, err := userChange(look, signedIn, groups, regroup, sent, stateSeq)
		if st.end || err != nil {
			return st.end, err
		}
		if st.regrouped {
			h.regroup(sub, st.groups)
			groups = st.groups
			out.add(regroupedFrame(sent))
		}
		if st.state != nil {
			out.add(st.state)
		}
		stateSeq = st.stateSeq
		out.add(st.unread)
		return false, nil
	}
	if req.UserID != 0 {
		if _, err := userChanged(nil, false); err != nil {
			return err
		}
	}
	if err := out.flush(); err != nil {
		return nil
	}
	start := sent // Event.For: what the replay read
	if takeOver {
		// Nothing the client sends after its request is read, so the
		// buffered reader and writer go with the handler.
		if conn, _, err := rc.Hijack(); err == nil {
			h.adopt(conn, sub, sent, stateSeq, req, rs)
			return nil
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sub.Done():
			return nil
		case <-reads:
			if end, err := userChanged(req.SignedIn, true); end || err != nil {
				return err
			}
			if err := out.flush(); err != nil {
				return nil
			}
		case ev := <-sub.Events():
			// A pending sign-out goes first: select picks among ready cases
			// at random, and nothing must be written after one.
			select {
			case <-reads:
				if end, err := userChanged(req.SignedIn, true); end || err != nil {
					return err
				}
			default:
			}
			// Coalesce: take everything already queued, then flush once.
			for more := true; more; {
				if ev.ID == 0 || ev.ID > sent {
					if e := ev.For(start); e != nil {
						out.add(e.FrameFor(req.Fields))
					}
					sent = max(sent, ev.ID)
				}
				select {
				case ev = <-sub.Events():
				default:
					more = false
				}
			}
			if err := out.flush(); err != nil {
				return nil
			}
		}
	}
}

// Unavailable answers a stream request that cannot be served now (its
// session could not be loaded, say): a 200 stream that says when to retry
// and ends, so the browser comes back instead of giving up.
func (h *Hub) Unavailable(w http.ResponseWriter) error {
	setStreamHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	// A longer, spread retry: every browser must not come back at once to
	// a database that is recovering.
	wait := 5*time.Second + rand.N(10*time.Second)
	_, err := w.Write(retryFrame(wait))
	return err
}

func setStreamHeaders(hdr http.Header) {
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Accel-Buffering", "no")
	hdr.Del("Content-Length")
}

// streamWriter gathers frames and writes them with one flush.
type streamWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	pending [][]byte
}

func (s *streamWriter) add(frame []byte) { s.pending = append(s.pending, frame) }

func (s *streamWriter) flush() error {
	// Not every ResponseWriter supports deadlines (httptest's recorder
	// does not); without one the write simply has none.
	_ = s.rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	for i, f := range s.pending {
		if _, err := s.w.Write(f); err != nil {
			return err
		}
		s.pending[i] = nil
	}
	s.pending = s.pending[:0]
	return s.rc.Flush()
}
