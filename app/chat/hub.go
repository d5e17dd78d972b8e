// Package chat is the chat: rooms, their history and presence, and a read
// and a write pump per WebSocket client.
package chat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"beacon/app/broker"
	"beacon/app/models"
)

// History is how many messages a client gets when it connects, and the
// chat page shows.
const History = 50

// Source is what the chat reads and writes in the database.
type Source interface {
	CreateChatMessage(ctx context.Context, m *models.ChatMessage) error
	ChatMessagesAfter(ctx context.Context, room string, after int64, limit int) ([]models.ChatMessage, error)
	RecentChatMessages(ctx context.Context, room string, limit int) ([]models.ChatMessage, error)
	SetChatPresence(ctx context.Context, room, holder string, userIDs []int64, expires time.Time) error
	ChatOnline(ctx context.Context, room, except string, now time.Time) ([]models.User, error)
}

// Broker carries "new messages in this room" wake-ups between instances.
type Broker interface {
	broker.Subscriber
	broker.Publisher
}

// Options are the chat's settings that a deployment chooses.
// The rate and burst must be positive; config holds their defaults
// (CHAT_RATE_LIMIT, CHAT_RATE_BURST).
type Options struct {
	MessageRate  rate.Limit // messages per second a user may send
	MessageBurst int        // messages they may send at once
	// PresenceTTL is how long an instance's presence rows last unless it
	// refreshes them (every third of it); 0 is 30 s. Tests shorten it.
	PresenceTTL time.Duration
}

// errChatClosed refuses connections once the hub is shutting down.
var errChatClosed = errors.New("chat hub is shutting down")

// Hub runs the chat rooms of this instance. Each room with clients has
// one goroutine: it wakes on the broker, loads the room's messages after
// its cursor, renders each once, and offers the same bytes to every client
// without blocking.
type Hub struct {
	source Source
	render Renderer
	broker Broker
	log    *slog.Logger
	opts   Options

	// instance names this hub in the presence rows; each run of a room
	// adds a number (runs), so a room that stops and starts again never
	// deletes the rows of its next run.
	instance string

	// wg counts room goroutines and connections, so Run returns only when
	// every one has ended.
	wg sync.WaitGroup

	mu    sync.Mutex
	rooms map[string]*runningRoom
	users map[int64]*chatUser // users with connections, by id
	// resting holds the allowances of users whose last socket closed
	// before it refilled, so that reconnecting is no new burst; each is
	// forgotten once full again (see enterUser), at restSweptAt's pace.
	resting     map[int64]*rate.Limiter
	restSweptAt time.Time
	// slots holds every connection, evicted or not, until it ends, by its
	// ping slot: a tick of pingUntil looks at its own slot's alone.
	slots  [pingSlots]map[*chatClient]struct{}
	closed bool   // Run's context ended: no one joins any more
	runs   uint64 // rooms started
	joins  uint64 // connections joined, for their ping slots
}

// newInstanceID returns a random id for a hub: unique among instances
// sharing a database, and across restarts.
func newInstanceID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux and BSDs
	return hex.EncodeToString(b[:])
}

// runningRoom is the hub's record of a room it runs, guarded by Hub.mu:
// the room's goroutine ends when the last connection leaves (or Run stops
// it), and a room is looked up and joined under the same lock.
type runningRoom struct {
	room *chatRoom
	refs int                // connections joined or joining
	stop context.CancelFunc // ends the room's goroutine
}

// NewHub returns a hub; call Run to serve until shutdown.
func NewHub(source Source, render Renderer, b Broker, log *slog.Logger, opts Options) (*Hub, error) {
	if opts.MessageRate <= 0 || opts.MessageBurst <= 0 || opts.PresenceTTL < 0 {
		return nil, errors.New("chat hub: Options needs a positive MessageRate and MessageBurst, and a PresenceTTL not below 0")
	}
	if opts.PresenceTTL == 0 {
		opts.PresenceTTL = chatPresenceTTL
	}
	h := &Hub{
		source: source, render: render, broker: b, log: log, opts: opts, instance: newInstanceID(),
		rooms: make(map[string]*runningRoom), users: make(map[int64]*chatUser),
		resting: make(map[int64]*rate.Limiter),
	}
	for i := range h.slots {
		h.slots[i] = make(map[*chatClient]struct{})
	}
	return h, nil
}

// Run waits for ctx to end, then closes every connection with "going
// away" (1001), so that clients reconnect elsewhere, stops every room,
// and returns once they have ended. ctx is the hub's one stop signal.
// http.Server.Shutdown does not track hijacked connections: this is what
// ends them.
func (h *Hub) Run(ctx context.Context) error {
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
	for _, slot := range h.slots {
		for c := range slot {
			_ = c.conn.Close()
		}
	}
	h.mu.Unlock()
	<-done
	return nil
}

// shuttingDown reports whether Run's context has ended.
func (h *Hub) shuttingDown() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

// Connections is how many chat connections this instance holds.
func (h *Hub) Connections() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, slot := range h.slots {
		n += len(slot)
	}
	return n
}
