package stream

import (
	"context"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
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

	var sub *Subscription
	defer func() {
		if sub != nil {
			h.Unsubscribe(sub)
		}
	}()
	// Visitors have no read state: a nil channel never fires.
	var reads <-chan struct{}
	var rs *broker.Subscription
	if req.UserID != 0 {
		rs = h.broker.Subscribe(broker.UserTopic(req.UserID))
		defer rs.Close()
		reads = rs.C()
	}
	out := &streamWriter{w: w, rc: rc}
	sent, replayed, err := h.subscribeAndReplay(ctx, out, &req, &sub)
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
		var moveTo func([]int64, int64) bool
		if regroup {
			moveTo = func(groups []int64, since int64) bool { return h.regroup(sub, groups, since) }
		}
		st, err := userChange(look, signedIn, moveTo, sent, stateSeq)
		if st.end || err != nil {
			return st.end, err
		}
		if st.regrouped {
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
				switch {
				case ev.regrouped: // by the hub's look, in position order
					out.add(regroupedFrame(sent))
				case ev.ID == 0 || ev.ID > sent:
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

// regroupTries is how many times a stream's set-up reads the user's groups:
// it replays by them, and starts again while they changed meanwhile, but
// the last time it resets the client instead.
const regroupTries = 3

// subscribeAndReplay subscribes the stream (*sub) and queues its replay on
// out; it returns what Hub.replay does.
//
// A signed-in user's groups are read once the subscription is made (a
// change after that reaches it in position order, by the hub's look) and
// once more after the replay was read: a change that committed in between
// may have been passed by the old groups (the replay read past its
// position by them, or the hub offered the subscription changes past it
// by them before its groups were set). A client cut off after such an
// event would resume from past the change, holding what the old groups
// chose, and never be reset. Then the set-up starts again, on a new
// subscription, by the new groups (a client from before the change is
// reset: see Request.regroupedAt).
func (h *Hub) subscribeAndReplay(ctx context.Context, out *streamWriter, req *Request, sub **Subscription) (sent int64, replayed []*Event, err error) {
	for try := 1; ; try++ {
		*sub = h.subscribe(req.UserID, nil, groupsUnset, req.Fields)
		out.add(retryFrame(h.opts.Retry))
		if req.UserID == 0 {
			return h.replay(ctx, out, *req)
		}
		if req.groups, req.regroupedAt, err = h.source.Membership(ctx, req.UserID); err != nil {
			return 0, nil, err
		}
		h.regroup(*sub, req.groups, req.regroupedAt)
		if try == regroupTries {
			// Its groups keep changing: the client reloads by the newest.
			// (A change after this read is the hub's look's to tell.)
			last, err := h.source.LastPosition(ctx)
			if err != nil {
				return 0, nil, err
			}
			sent, err := h.reset(ctx, out, req.UserID, last)
			return sent, nil, err
		}
		if sent, replayed, err = h.replay(ctx, out, *req); err != nil {
			return 0, nil, err
		}
		groups, since, err := h.source.Membership(ctx, req.UserID)
		if err != nil || since == req.regroupedAt && slices.Equal(groups, req.groups) {
			return sent, replayed, err
		}
		h.Unsubscribe(*sub)
		clear(out.pending) // nothing is written before the set-up ends
		out.pending = out.pending[:0]
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
