package channels

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"beacon/app/broker"
	"beacon/app/models"
)

// writeTimeout bounds one write to a stream: a browser that stops reading
// is cut off instead of holding its handler forever.
// It is shorter than the shutdown grace period, so a stalled stream
// cannot hold a shutdown past it.
const writeTimeout = 5 * time.Second

// StreamRequest is what a stream needs to know about its client.
type StreamRequest struct {
	UserID int64 // 0 for a visitor
	// LastEventID is the id the client last saw, as sent; "" when it sent none.
	LastEventID string
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
//
// On a plain HTTP/1.x connection, once the replay is written, the hub takes
// the connection over (see adopt) and Stream returns: an idle stream then
// costs no goroutine. Otherwise (HTTP/2, test recorders) it serves the
// stream here until it ends.
func (h *NotificationHub) Stream(ctx context.Context, w http.ResponseWriter, req StreamRequest) error {
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

	sub := h.Subscribe(req.UserID)
	defer h.Unsubscribe(sub)
	// Visitors have no read state: a nil channel never fires.
	var reads <-chan struct{}
	var rs *broker.Subscription
	if req.UserID != 0 {
		rs = h.broker.Subscribe(UserTopic(req.UserID))
		defer rs.Close()
		reads = rs.C()
	}

	out := &streamWriter{w: w, rc: rc}
	out.add(retryFrame(h.opts.Retry))
	sent, err := h.replay(ctx, out, req)
	if err != nil {
		return err
	}
	if req.UserID != 0 {
		if err := h.addUnread(ctx, out, req.UserID, sent); err != nil {
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
			h.adopt(conn, sub, sent, req, rs)
			return nil
		}
	}
	// userChanged answers a wake-up on the user's topic: end the stream if
	// its session is gone, else queue the new unread count.
	userChanged := func() (end bool, err error) {
		if req.SignedIn != nil && !req.SignedIn() {
			return true, nil
		}
		return false, h.addUnread(ctx, out, req.UserID, sent)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sub.Done():
			return nil
		case <-reads:
			if end, err := userChanged(); end || err != nil {
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
				if end, err := userChanged(); end || err != nil {
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

// addUnread queues the user's unread count up to id through.
func (h *NotificationHub) addUnread(ctx context.Context, out *streamWriter, userID, through int64) error {
	n, err := h.source.UnreadCount(ctx, userID, through)
	if err != nil {
		return err
	}
	out.add(encodeUnread(n))
	return nil
}

// Unavailable answers a stream request that cannot be served now (its
// session could not be loaded, say): a 200 stream that says when to retry
// and ends, so the browser comes back instead of giving up.
func (h *NotificationHub) Unavailable(w http.ResponseWriter) error {
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

// maxReplay is the most events a resuming stream is sent: a client further
// behind gets `reset` and reloads the newest page instead.
const maxReplay = 1000

// replay queues what the client missed and returns the last position it
// has: every notification the user may see that changed after the client's
// cursor, once, in its latest state, in position order. A cursor it cannot
// resume from, or one more than maxReplay events behind, gets `reset`.
//
// It returns at least the newest position read before the replay: every
// change up to it had committed, so the replay sent its latest state, and
// live events up to it would only repeat it.
func (h *NotificationHub) replay(ctx context.Context, out *streamWriter, req StreamRequest) (int64, error) {
	// A cursor the resume window covers is served from memory.
	if evs, sent, ok := h.resume.replay(ctx, h, req.UserID, req.LastEventID); ok {
		for _, ev := range evs {
			out.add(ev.FrameFor(req.Fields))
		}
		return sent, nil
	}
	last, err := h.source.LastPosition(ctx)
	if err != nil {
		return 0, err
	}
	if req.LastEventID == "" {
		return last, nil // a new client starts from now
	}
	after, ok := parseID(req.LastEventID)
	if ok {
		if ok, err = h.resumable(ctx, req.UserID, after); err != nil {
			return 0, err
		}
	}
	var ns []models.Notification
	if ok {
		// One more than the bound tells "too far behind" from "exactly
		// maxReplay behind" in one query.
		if ns, err = h.source.ChangesAfter(ctx, req.UserID, after, maxReplay+1); err != nil {
			return 0, err
		}
		ok = len(ns) <= maxReplay
	}
	if !ok {
		return h.reset(ctx, out, req.UserID, last)
	}
	sent := last
	for _, n := range ns {
		// Against the client's own cursor: it decides what the client holds.
		ev, err := h.encode(ctx, n, kindAfter(n, after))
		if err != nil {
			return 0, err
		}
		out.add(ev.FrameFor(req.Fields))
		sent = max(sent, n.Position)
	}
	return sent, nil
}

// resumable reports whether a client at position after can be brought up to
// date by a replay: nothing it missed was pruned, and the position is one
// this viewer's stream could have sent. Where "now" is for this viewer: the
// newest position overall would tell anyone when others' notifications
// change.
func (h *NotificationHub) resumable(ctx context.Context, userID, after int64) (bool, error) {
	pruned, err := h.source.PrunedThrough(ctx)
	if err != nil {
		return false, err
	}
	if after < pruned {
		return false, nil
	}
	visible, err := h.source.LastVisiblePosition(ctx, userID)
	if err != nil {
		return false, err
	}
	return after <= max(visible, pruned), nil
}

// reset tells the client where "now" is for it, so it reloads once (a reset
// database, a forged header, a cursor pruned or too far behind), and returns
// the position live events continue after.
func (h *NotificationHub) reset(ctx context.Context, out *streamWriter, userID, last int64) (int64, error) {
	visible, err := h.source.LastVisiblePosition(ctx, userID)
	if err != nil {
		return 0, err
	}
	pruned, err := h.source.PrunedThrough(ctx)
	if err != nil {
		return 0, err
	}
	// Never below what was pruned: a client resuming from the id it is
	// given must not be reset again.
	now := max(visible, pruned)
	out.add(encodeEvent(now, "reset", encodeReset(now)))
	return max(last, now), nil
}

// parseID accepts a decimal, non-negative stream position.
func parseID(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 0 || s[0] == '+' {
		return 0, false
	}
	return id, true
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
