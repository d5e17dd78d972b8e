package chat

import (
	"bufio"
	"context"
	"errors"
	"strconv"

	"github.com/gorilla/websocket"

	"beacon/app/broker"
	"beacon/app/models"
)

// Request is what a chat connection needs to know about its client.
type Request struct {
	User models.User
	Room string
	// After, when not 0, is the last message id the client has: its
	// history is what it missed.
	After int64
	// SignedIn reports whether the user's session still exists; asked
	// before each message is stored, at each ping, and whenever the
	// user's topic wakes (they signed out, on any instance).
	SignedIn func() bool
	// Ended, when not nil, is called once the connection has ended (it
	// lets a connection limit's lease last as long as the socket).
	Ended func()
	// Reader is the buffer the connection is read through, from Upgrade:
	// with it an idle socket waits for its next frame on half the stack.
	// nil (a connection from gorilla's own Upgrade): the read pump waits
	// inside gorilla's read.
	Reader *bufio.Reader
}

// Serve joins one chat connection to req.Room, then hands it to its read
// pump (and a writer whenever there is something to send), and returns:
// the hub owns conn until the client leaves, breaks a rule, falls behind,
// its session ends, or the hub shuts down (Run returns once every
// connection is closed). ctx is the upgraded request's, for joining:
// neither it nor its values are kept once Serve has returned.
func (h *Hub) Serve(ctx context.Context, conn *websocket.Conn, req Request) {
	ended := req.Ended
	if ended == nil {
		ended = func() {}
	}
	room := req.Room
	c := newChatClient(conn, req.User, &h.opts)
	if req.Reader != nil {
		c.br, c.raw = req.Reader, rawConn(conn.NetConn())
	}
	c.signedIn = req.SignedIn
	r, err := h.join(ctx, c, room, req.After)
	if err != nil {
		code, reason := websocket.CloseInternalServerErr, "the room is unavailable, try again"
		if errors.Is(err, errChatClosed) || h.shuttingDown() {
			code, reason = websocket.CloseGoingAway, "server shutting down"
		}
		c.closeNow(code, reason)
		ended()
		return
	}
	// The pumps outlive the request: its handler returns, and with it go
	// net/http's buffers and the handler's deep stack, which an idle socket
	// would otherwise hold (half its memory). So does the request's
	// context: what the socket does later (store a message) needs none of
	// its values, and keeping them would keep its session data and more
	// for the life of the socket. Run is what ends the connection.
	ctx = context.Background()
	h.enterUser(c)
	go func() {
		defer ended()
		defer h.leave(r, c)
		defer h.leaveUser(c)
		// readPump has called end, which made the channels, on its way out.
		c.readPump(ctx, func(body string) error { return h.post(ctx, c, room, body) })
		close(c.readerDone)
		<-c.closed // the writer's close, which the read pump's end started
	}()
}

// post stores a message, then wakes every hub serving its room: the row id
// is the truth, the broker only says where to look.
func (h *Hub) post(ctx context.Context, c *chatClient, room, body string) error {
	m := models.ChatMessage{Room: room, UserID: c.user.ID, Body: body}
	return broker.SaveThenPublish(ctx, h.broker, h.log, broker.ChatTopic(room), func(ctx context.Context) error {
		return h.source.CreateChatMessage(ctx, &m)
	})
}

// join adds c to room, starting the room when it is the first. On success
// c has its history and presence queued; the caller must call leave.
func (h *Hub) join(ctx context.Context, c *chatClient, name string, after int64) (*runningRoom, error) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, errChatClosed
	}
	r := h.rooms[name]
	if r == nil {
		roomCtx, stop := context.WithCancel(context.Background())
		h.runs++
		holder := h.instance + "/" + strconv.FormatUint(h.runs, 10)
		r = &runningRoom{room: newChatRoom(name, holder), stop: stop}
		h.rooms[name] = r
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			h.runRoom(roomCtx, r.room)
		}()
	}
	r.refs++
	h.addConnLocked(c)
	h.wg.Add(1) // this connection, until leave
	h.mu.Unlock()

	select {
	case <-r.room.ready:
	case <-ctx.Done():
		h.leave(r, c)
		return nil, ctx.Err()
	}
	err := r.room.err
	var missed []chatFrame
	if err == nil && after > 0 {
		missed, err = h.missedSince(ctx, name, after)
	}
	if err == nil {
		err = r.room.add(c, after, missed)
	}
	if err != nil {
		h.leave(r, c)
		return nil, err
	}
	return r, nil
}

// leave removes c from r, and stops r when no one is left in it.
func (h *Hub) leave(r *runningRoom, c *chatClient) {
	r.room.remove(c)
	h.mu.Lock()
	r.refs--
	h.removeConnLocked(c)
	if r.refs == 0 {
		if h.rooms[r.room.name] == r {
			delete(h.rooms, r.room.name)
		}
		r.stop()
	}
	h.mu.Unlock()
	h.wg.Done()
}
