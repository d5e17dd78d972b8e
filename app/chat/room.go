package chat

import (
	"slices"
	"sync"
)

// chatRoom is one room's clients, its recent history and who is online.
type chatRoom struct {
	name   string
	holder string        // this run's id in the presence rows
	ready  chan struct{} // closed once recent is loaded, or err set
	err    error
	// localChanged wakes the presence loop: the users served here changed.
	localChanged chan struct{}

	mu      sync.Mutex
	closed  bool
	clients map[*chatClient]struct{}
	// here counts the clients of each user served here: a join or leave
	// changes who is online only when it is a user's first or last.
	here     map[int64]*hereUser
	stale    bool             // here or others changed since the last presence frame
	recent   []chatFrame      // the last History messages, oldest first
	history  []byte           // the history frame for recent; nil when stale
	online   []string         // the names last sent in a presence frame
	presence []byte           // that frame
	localIDs []int64          // ids of the users served here, ascending
	others   map[int64]string // names of the users online on other instances, by id
}

func newChatRoom(name, holder string) *chatRoom {
	return &chatRoom{
		name: name, holder: holder, ready: make(chan struct{}), localChanged: make(chan struct{}, 1),
		clients: make(map[*chatClient]struct{}), here: make(map[int64]*hereUser),
	}
}

// hereUser is a user with clients in a room on this instance.
type hereUser struct {
	name    string
	clients int
}

// addLocked makes c one of r's clients.
func (r *chatRoom) addLocked(c *chatClient) {
	r.clients[c] = struct{}{}
	u := r.here[c.user.ID]
	if u == nil {
		u = &hereUser{name: c.user.Name}
		r.here[c.user.ID] = u
		r.stale = true
	}
	u.clients++
}

// removeLocked removes c from r's clients, if it is one.
func (r *chatRoom) removeLocked(c *chatClient) {
	if _, ok := r.clients[c]; !ok {
		return
	}
	delete(r.clients, c)
	u := r.here[c.user.ID]
	if u.clients--; u.clients == 0 {
		delete(r.here, c.user.ID)
		r.stale = true
	}
}

// chatFrame is one message's rendered frame.
type chatFrame struct {
	id    int64
	frame []byte
}

// add queues the history and the online list for c, then lets it receive
// live messages. Under one lock with deliver, so c gets no message twice
// and misses none. missed, when not nil, is what c asked to catch up on
// after the id after (read from the database, oldest first): its history
// is that, followed by the recent messages after both, instead of the
// last History; empty when c missed nothing.
func (r *chatRoom) add(c *chatClient, after int64, missed []chatFrame) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errChatClosed
	}
	if missed != nil {
		last := after
		if len(missed) > 0 {
			last = missed[len(missed)-1].id
		}
		for _, f := range r.recent {
			if f.id > last {
				missed = append(missed, f)
			}
		}
		c.offer(historyFrame(missed)) // its queue is empty: this cannot fail
	} else {
		if r.history == nil {
			r.history = historyFrame(r.recent)
		}
		c.offer(r.history) // its queue is empty: this cannot fail
	}
	r.addLocked(c)
	if !r.syncPresenceLocked() {
		c.offer(r.presence)
	}
	return nil
}

func (r *chatRoom) remove(c *chatClient) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removeLocked(c)
	r.syncPresenceLocked()
}

// deliver records a new message frame and offers it to every client.
func (r *chatRoom) deliver(id int64, frame []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recent = append(r.recent, chatFrame{id, frame})
	if len(r.recent) > History {
		r.recent = slices.Delete(r.recent, 0, len(r.recent)-History)
	}
	r.history = nil
	if r.broadcastLocked(frame) {
		r.syncPresenceLocked()
	}
}

// broadcastLocked offers frame to every client without blocking. A client
// whose queue is full is evicted: it does not read, and must not delay the
// others. It reports whether anyone was evicted.
func (r *chatRoom) broadcastLocked(frame []byte) bool {
	evicted := false
	for c := range r.clients {
		if !c.offer(frame) {
			r.removeLocked(c)
			c.evict()
			evicted = true
		}
	}
	return evicted
}

// closeAll drops every client with code and refuses new ones.
func (r *chatRoom) closeAll(code int, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for c := range r.clients {
		c.drop(code, reason)
	}
}
