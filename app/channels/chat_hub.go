package channels

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"beacon/app/models"
)

// ChatHistory is how many messages a client gets when it connects, and the
// chat page shows.
const ChatHistory = 50

// ChatTopic is the broker topic that carries room's new message ids.
func ChatTopic(room string) string { return "chat:" + room }

// ChatSource is what the chat reads and writes in the database.
type ChatSource interface {
	CreateChatMessage(ctx context.Context, m *models.ChatMessage) error
	ChatMessagesAfter(ctx context.Context, room string, after int64, limit int) ([]models.ChatMessage, error)
	RecentChatMessages(ctx context.Context, room string, limit int) ([]models.ChatMessage, error)
}

// ChatBroker carries "new messages in this room" wake-ups between instances.
type ChatBroker interface {
	Subscriber
	Publish(ctx context.Context, topic string) error
}

// ChatOptions tune a ChatHub; zero values take the defaults.
type ChatOptions struct {
	SendBuffer   int           // frames a client may have pending before it is dropped, default 256
	WriteWait    time.Duration // bound on one write, default 10s
	PingPeriod   time.Duration // default 30s
	PongWait     time.Duration // silence after which a client is dropped, default 45s
	CloseGrace   time.Duration // how long a close waits for the peer's answer, default 1s
	MessageRate  rate.Limit    // messages per second a client may send, default 10
	MessageBurst int           // messages it may send at once, default 2×MessageRate
	// FloodStrikes is how many refused messages a client may send (one
	// strike comes back per second) before it is disconnected, default 20.
	FloodStrikes int
}

func (o *ChatOptions) setDefaults() {
	if o.SendBuffer <= 0 {
		o.SendBuffer = 256
	}
	if o.WriteWait <= 0 {
		o.WriteWait = 10 * time.Second
	}
	if o.PingPeriod <= 0 {
		o.PingPeriod = 30 * time.Second
	}
	if o.PongWait <= o.PingPeriod {
		o.PongWait = o.PingPeriod * 3 / 2
	}
	if o.CloseGrace <= 0 {
		o.CloseGrace = time.Second
	}
	if o.MessageRate <= 0 {
		o.MessageRate = 10
	}
	if o.MessageBurst <= 0 {
		o.MessageBurst = max(1, int(2*o.MessageRate))
	}
	if o.FloodStrikes <= 0 {
		o.FloodStrikes = 20
	}
}

// errChatClosed refuses connections once the hub is shutting down.
var errChatClosed = errors.New("chat hub is shutting down")

// ChatHub runs the chat rooms of this instance. Each room with clients has
// one goroutine: it wakes on the broker, loads the room's messages after
// its cursor, renders each once, and offers the same bytes to every client
// without blocking.
type ChatHub struct {
	source ChatSource
	render ChatRenderer
	broker ChatBroker
	log    *slog.Logger
	opts   ChatOptions

	// ctx ends when Run's context does; rooms run under it.
	ctx  context.Context
	stop context.CancelFunc
	// wg counts room goroutines and connections, so Run returns only when
	// every one has ended.
	wg sync.WaitGroup

	mu     sync.Mutex
	rooms  map[string]*chatRoom
	conns  map[*chatClient]struct{} // every connection, evicted or not, until it ends
	closed bool
}

// NewChatHub returns a hub; call Run to serve until shutdown.
func NewChatHub(source ChatSource, render ChatRenderer, b ChatBroker, log *slog.Logger, opts ChatOptions) *ChatHub {
	opts.setDefaults()
	ctx, stop := context.WithCancel(context.Background())
	return &ChatHub{
		source: source, render: render, broker: b, log: log, opts: opts,
		ctx: ctx, stop: stop, rooms: make(map[string]*chatRoom), conns: make(map[*chatClient]struct{}),
	}
}

// Run waits for ctx to end, then closes every connection with "going
// away" (1001), so that clients reconnect elsewhere, and returns once
// they are closed. http.Server.Shutdown does not track hijacked
// connections: this is what ends them.
func (h *ChatHub) Run(ctx context.Context) error {
	<-ctx.Done()
	h.mu.Lock()
	h.closed = true
	rooms := make([]*chatRoom, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	h.mu.Unlock()

	for _, r := range rooms {
		r.closeAll(websocket.CloseGoingAway, "server shutting down")
	}
	h.stop()
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	force := time.NewTimer(2 * h.opts.CloseGrace)
	defer force.Stop()
	select {
	case <-done:
		return nil
	case <-force.C:
	}
	// A client stuck in a write would hold shutdown for WriteWait: cut it.
	h.mu.Lock()
	for c := range h.conns {
		_ = c.conn.Close()
	}
	h.mu.Unlock()
	<-done
	return nil
}

// Connections is how many chat connections this instance holds.
func (h *ChatHub) Connections() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// Serve runs one chat connection in room until the client leaves, breaks
// a rule, falls behind, its session ends, or the hub shuts down. The
// caller's goroutine is the read pump; Serve starts the write pump and
// returns once both have ended and conn is closed. signedIn is asked
// before each message is stored and at each ping. after, when not 0, is
// the last message id the client has: its history is what it missed.
func (h *ChatHub) Serve(ctx context.Context, conn *websocket.Conn, user models.User, room string, after int64, signedIn func() bool) {
	c := newChatClient(conn, user, &h.opts)
	c.signedIn = signedIn
	r, err := h.join(ctx, c, room, after)
	if err != nil {
		code, reason := websocket.CloseInternalServerErr, "the room is unavailable, try again"
		if errors.Is(err, errChatClosed) || h.ctx.Err() != nil {
			code, reason = websocket.CloseGoingAway, "server shutting down"
		}
		c.closeNow(code, reason)
		return
	}
	defer h.leave(r, c)

	readerDone := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writePump(readerDone)
	}()
	c.readPump(ctx, func(body string) error { return h.post(ctx, c, room, body) })
	close(readerDone)
	<-writerDone
}

// post stores a message, then wakes every hub serving its room: the row id
// is the truth, the broker only says where to look.
func (h *ChatHub) post(ctx context.Context, c *chatClient, room, body string) error {
	m := models.ChatMessage{Room: room, UserID: c.user.ID, Body: body}
	return SaveThenPublish(ctx, h.broker, h.log, ChatTopic(room), func(ctx context.Context) error {
		return h.source.CreateChatMessage(ctx, &m)
	})
}

// join adds c to room, starting the room when it is the first. On success
// c has its history and presence queued; the caller must call leave.
func (h *ChatHub) join(ctx context.Context, c *chatClient, name string, after int64) (*chatRoom, error) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, errChatClosed
	}
	r := h.rooms[name]
	if r == nil {
		r = newChatRoom(name)
		h.rooms[name] = r
		roomCtx, stop := context.WithCancel(h.ctx)
		r.stop = stop
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			h.runRoom(roomCtx, r)
		}()
	}
	r.refs++
	h.conns[c] = struct{}{}
	h.wg.Add(1) // this connection, until leave
	h.mu.Unlock()

	select {
	case <-r.ready:
	case <-ctx.Done():
		h.leave(r, c)
		return nil, ctx.Err()
	}
	err := r.err
	var missed []chatFrame
	if err == nil && after > 0 {
		missed, err = h.missedSince(ctx, name, after)
	}
	if err == nil {
		err = r.add(c, missed)
	}
	if err != nil {
		h.leave(r, c)
		return nil, err
	}
	return r, nil
}

// leave removes c from r, and stops r when no one is left in it.
func (h *ChatHub) leave(r *chatRoom, c *chatClient) {
	r.remove(c)
	h.mu.Lock()
	r.refs--
	delete(h.conns, c)
	if r.refs == 0 {
		if h.rooms[r.name] == r {
			delete(h.rooms, r.name)
		}
		r.stop()
	}
	h.mu.Unlock()
	h.wg.Done()
}

// runRoom loads the room's recent history, then delivers its new messages
// until ctx ends (the last client left, or shutdown).
func (h *ChatHub) runRoom(ctx context.Context, r *chatRoom) {
	// Subscribe before loading, so a message stored in between wakes us.
	wake := h.broker.Subscribe(ChatTopic(r.name))
	defer wake.Close()

	cursor, err := h.loadRecent(ctx, r)
	r.err = err
	close(r.ready)
	if err != nil {
		if ctx.Err() == nil {
			h.log.Error("chat: load room", "room", r.name, "err", err)
		}
		return
	}
	var again retry
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake.C():
		case <-again.c:
		}
		cursor, err = h.deliverAfter(ctx, r, cursor)
		again.after(err)
	}
}

// ChatCatchUp is the most messages a reconnecting client is sent to catch
// up; one that missed more gets the last ChatHistory, as a new one does.
const ChatCatchUp = 500

// missedSince loads room's messages after id for a client that
// reconnects, or returns nil when it missed more than ChatCatchUp.
func (h *ChatHub) missedSince(ctx context.Context, room string, after int64) ([]chatFrame, error) {
	ms, err := h.source.ChatMessagesAfter(ctx, room, after, ChatCatchUp+1)
	if err != nil || len(ms) > ChatCatchUp {
		return nil, err
	}
	missed := make([]chatFrame, 0, len(ms))
	for _, m := range ms {
		frame, err := encodeChatMessage(ctx, h.render, m)
		if err != nil {
			return nil, err
		}
		missed = append(missed, chatFrame{m.ID, frame})
	}
	return missed, nil
}

func (h *ChatHub) loadRecent(ctx context.Context, r *chatRoom) (int64, error) {
	ms, err := h.source.RecentChatMessages(ctx, r.name, ChatHistory)
	if err != nil {
		return 0, err
	}
	var cursor int64
	for _, m := range ms {
		frame, err := encodeChatMessage(ctx, h.render, m)
		if err != nil {
			return 0, err
		}
		r.recent = append(r.recent, chatFrame{m.ID, frame})
		cursor = m.ID
	}
	return cursor, nil
}

// deliverAfter fans out the room's messages after cursor and returns the
// new cursor. On a database error it returns the error and the cursor as
// far as it got; runRoom retries.
func (h *ChatHub) deliverAfter(ctx context.Context, r *chatRoom, cursor int64) (int64, error) {
	for {
		ms, err := h.source.ChatMessagesAfter(ctx, r.name, cursor, fetchBatch)
		if err != nil {
			if ctx.Err() != nil {
				return cursor, nil
			}
			h.log.Error("chat: load messages", "room", r.name, "after", cursor, "err", err)
			return cursor, err
		}
		for _, m := range ms {
			frame, err := encodeChatMessage(ctx, h.render, m)
			if err != nil {
				h.log.Error("chat: render", "id", m.ID, "err", err)
			} else {
				r.deliver(m.ID, frame)
			}
			cursor = m.ID
		}
		if len(ms) < fetchBatch {
			return cursor, nil
		}
	}
}
