package channels

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strconv"
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
	SetChatPresence(ctx context.Context, room, holder string, userIDs []int64, expires time.Time) error
	ChatOnline(ctx context.Context, room, except string, now time.Time) ([]models.User, error)
}

// ChatBroker carries "new messages in this room" wake-ups between instances.
type ChatBroker interface {
	Subscriber
	Publish(ctx context.Context, topic string) error
}

// ChatOptions are the chat's settings that a deployment chooses.
// The rate and burst must be positive; config holds their defaults
// (CHAT_RATE_LIMIT, CHAT_RATE_BURST).
type ChatOptions struct {
	MessageRate  rate.Limit // messages per second a user may send
	MessageBurst int        // messages they may send at once
	// PresenceTTL is how long an instance's presence rows last unless it
	// refreshes them (every third of it); 0 is 30 s. Tests shorten it.
	PresenceTTL time.Duration
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

	// instance names this hub in the presence rows; each run of a room
	// adds a number (runs), so a room that stops and starts again never
	// deletes the rows of its next run.
	instance string

	// wg counts room goroutines and connections, so Run returns only when
	// every one has ended.
	wg sync.WaitGroup

	mu     sync.Mutex
	rooms  map[string]*runningRoom
	users  map[int64]*chatUser      // users with connections, by id
	conns  map[*chatClient]struct{} // every connection, evicted or not, until it ends
	closed bool                     // Run's context ended: no one joins any more
	runs   uint64                   // rooms started
	joins  uint64                   // connections joined, for their ping slots
}

// newInstanceID returns a random id for a hub: unique among instances
// sharing a database, and across restarts.
func newInstanceID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux and BSDs
	return hex.EncodeToString(b[:])
}

// runningRoom is the hub's record of a room it runs, guarded by ChatHub.mu:
// the room's goroutine ends when the last connection leaves (or Run stops
// it), and a room is looked up and joined under the same lock.
type runningRoom struct {
	room *chatRoom
	refs int                // connections joined or joining
	stop context.CancelFunc // ends the room's goroutine
}

// NewChatHub returns a hub; call Run to serve until shutdown.
func NewChatHub(source ChatSource, render ChatRenderer, b ChatBroker, log *slog.Logger, opts ChatOptions) *ChatHub {
	if opts.MessageRate <= 0 || opts.MessageBurst <= 0 || opts.PresenceTTL < 0 {
		panic("channels: ChatOptions needs a positive MessageRate and MessageBurst, and a PresenceTTL not below 0")
	}
	if opts.PresenceTTL == 0 {
		opts.PresenceTTL = chatPresenceTTL
	}
	return &ChatHub{
		source: source, render: render, broker: b, log: log, opts: opts, instance: newInstanceID(),
		rooms: make(map[string]*runningRoom), users: make(map[int64]*chatUser), conns: make(map[*chatClient]struct{}),
	}
}

// Run waits for ctx to end, then closes every connection with "going
// away" (1001), so that clients reconnect elsewhere, stops every room,
// and returns once they have ended. ctx is the hub's one stop signal.
// http.Server.Shutdown does not track hijacked connections: this is what
// ends them.
func (h *ChatHub) Run(ctx context.Context) error {
	h.pingUntil(ctx)
	h.mu.Lock()
	h.closed = true
	rooms := make([]*runningRoom, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	h.mu.Unlock()

	for _, r := range rooms {
		r.room.closeAll(websocket.CloseGoingAway, "server shutting down")
		r.stop()
	}
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		close(done)
	}()
	force := time.NewTimer(2 * closeGrace)
	defer force.Stop()
	select {
	case <-done:
		return nil
	case <-force.C:
	}
	// A client stuck in a write would hold shutdown for writeWait: cut it.
	h.mu.Lock()
	for c := range h.conns {
		_ = c.conn.Close()
	}
	h.mu.Unlock()
	<-done
	return nil
}

// pingSlots is how many groups the connections are pinged in, one group
// each pingPeriod/pingSlots: the pings (and the session checks with them)
// of sockets opened together are spread over the period.
const pingSlots = 30

// pingUntil pings every connection once each pingPeriod until ctx ends,
// from one ticker for all of them.
func (h *ChatHub) pingUntil(ctx context.Context) {
	t := time.NewTicker(pingPeriod / pingSlots)
	defer t.Stop()
	for slot := 0; ; slot = (slot + 1) % pingSlots {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h.mu.Lock()
		for c := range h.conns {
			if c.pingSlot == slot {
				c.ping()
			}
		}
		h.mu.Unlock()
	}
}

// shuttingDown reports whether Run's context has ended.
func (h *ChatHub) shuttingDown() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

// Connections is how many chat connections this instance holds.
func (h *ChatHub) Connections() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// Serve joins one chat connection to room, then hands it to its read
// pump (and a writer whenever there is something to send), and returns: the hub owns conn
// until the client leaves, breaks a rule, falls behind, its session
// ends, or the hub shuts down (Run returns once every connection is
// closed). ctx is the upgraded request's, for joining: neither it nor
// its values are kept once Serve has returned. signedIn is asked
// before each message is stored, at each ping, and whenever the user's
// topic wakes (they signed out, on any instance). after, when not 0, is
// the last message id the client has: its history is what it missed.
// ended, when not nil, is called once the connection has ended (it lets a
// connection limit's lease last as long as the socket).
func (h *ChatHub) Serve(ctx context.Context, conn *websocket.Conn, user models.User, room string, after int64, signedIn func() bool, ended func()) {
	h.ServeRead(ctx, conn, nil, user, room, after, signedIn, ended)
}

// ServeRead is Serve for a connection from UpgradeChat, whose read buffer
// br is known (nil: unknown, as for Serve): its idle socket costs half the
// stack.
func (h *ChatHub) ServeRead(ctx context.Context, conn *websocket.Conn, br *bufio.Reader, user models.User, room string, after int64, signedIn func() bool, ended func()) {
	if ended == nil {
		ended = func() {}
	}
	c := newChatClient(conn, user, &h.opts)
	if br != nil {
		c.br, c.raw = br, rawConn(conn.NetConn())
	}
	c.signedIn = signedIn
	r, err := h.join(ctx, c, room, after)
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
func (h *ChatHub) post(ctx context.Context, c *chatClient, room, body string) error {
	m := models.ChatMessage{Room: room, UserID: c.user.ID, Body: body}
	return SaveThenPublish(ctx, h.broker, h.log, ChatTopic(room), func(ctx context.Context) error {
		return h.source.CreateChatMessage(ctx, &m)
	})
}

// join adds c to room, starting the room when it is the first. On success
// c has its history and presence queued; the caller must call leave.
func (h *ChatHub) join(ctx context.Context, c *chatClient, name string, after int64) (*runningRoom, error) {
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
	h.conns[c] = struct{}{}
	c.pingSlot = int(h.joins % pingSlots)
	h.joins++
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
		err = r.room.add(c, missed)
	}
	if err != nil {
		h.leave(r, c)
		return nil, err
	}
	return r, nil
}

// leave removes c from r, and stops r when no one is left in it.
func (h *ChatHub) leave(r *runningRoom, c *chatClient) {
	r.room.remove(c)
	h.mu.Lock()
	r.refs--
	delete(h.conns, c)
	if r.refs == 0 {
		if h.rooms[r.room.name] == r {
			delete(h.rooms, r.room.name)
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
	seen := h.broker.Subscribe(PresenceTopic(r.name))

	cursor, err := h.loadRecent(ctx, r)
	if err == nil {
		// Before the first client's opening presence frame, so that it
		// lists who is online elsewhere.
		h.readOthers(ctx, r)
	}
	r.err = err
	close(r.ready)
	if err != nil {
		seen.Close()
		if ctx.Err() == nil {
			h.log.Error("chat: load room", "room", r.name, "err", err)
		}
		return
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer seen.Close()
		h.runPresence(ctx, r, seen.C())
	}()
	follow(ctx, wake.C(), func(ctx context.Context) (err error) {
		cursor, err = h.deliverAfter(ctx, r, cursor)
		return err
	}, nil, nil)
}

// chatCatchUp is the most messages a reconnecting client is sent to catch
// up; one that missed more gets the last ChatHistory, as a new one does.
const chatCatchUp = 500

// missedSince loads room's messages after id for a client that
// reconnects, or returns nil when it missed more than chatCatchUp.
func (h *ChatHub) missedSince(ctx context.Context, room string, after int64) ([]chatFrame, error) {
	ms, err := h.source.ChatMessagesAfter(ctx, room, after, chatCatchUp+1)
	if err != nil || len(ms) > chatCatchUp {
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
// far as it got; follow retries.
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
