package chat

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"beacon/app/broker"
	"beacon/app/models"
)

// Presence: who is online in a room, on any instance (each user once,
// however many tabs), sent to everyone in it whenever that changes, and to
// each who joins.
//
// The database is the truth across instances. Each instance's run of a
// room (its holder id) writes the room's users it serves when they change
// and refreshes them every TTL/3; its goodbye deletes them. Every change
// publishes a wake-up on PresenceTopic, and each room re-reads the other
// holders' users on a wake-up and on its refresh, so the users of an
// instance killed without a goodbye vanish once their rows expire. A room
// knows its own users better than its rows: the list it sends is those
// joined with the other holders', so a join or leave here shows at once.
// Expiry compares the writer's clock with the reader's: instances' clocks
// must agree to well within the TTL (NTP does).

// chatPresenceTTL is how long an instance's presence rows hold without a
// refresh: how long the users of a killed instance stay listed.
const chatPresenceTTL = 30 * time.Second

// goodbyeWait bounds the deletion of a room's rows when it stops.
const goodbyeWait = 2 * time.Second

// runPresence keeps r's rows and its view of the other instances' users
// current until ctx ends (the room stops), then deletes its rows. wake is
// broker.PresenceTopic(r.name)'s subscription.
func (h *Hub) runPresence(ctx context.Context, r *chatRoom, wake <-chan struct{}) {
	defer h.sayGoodbye(ctx, r)
	refresh := time.NewTicker(h.opts.PresenceTTL / 3)
	defer refresh.Stop()
	unannounced := false // a change here is written but not yet published
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.localChanged:
			unannounced = true
			if h.writePresence(ctx, r) {
				unannounced = !h.publishPresence(ctx, r)
			}
		case <-refresh.C:
			if h.writePresence(ctx, r) && unannounced {
				unannounced = !h.publishPresence(ctx, r)
			}
			h.readOthers(ctx, r)
		case <-wake:
			h.readOthers(ctx, r)
		}
	}
}

// writePresence writes r's users, until a TTL from now.
func (h *Hub) writePresence(ctx context.Context, r *chatRoom) bool {
	err := h.source.SetChatPresence(ctx, r.name, r.holder, r.localUsers(), time.Now().Add(h.opts.PresenceTTL))
	if err != nil {
		if ctx.Err() == nil {
			h.log.Error("chat: write presence", "room", r.name, "err", err)
		}
		return false
	}
	return true
}

// publishPresence tells every instance to read r's presence again, once
// it is written. It publishes directly, not through
// broker.SaveThenPublish, because it must know whether the wake-up went
// out: runPresence publishes a failed one again at the next refresh,
// where SaveThenPublish would only log it.
func (h *Hub) publishPresence(ctx context.Context, r *chatRoom) bool {
	if err := h.broker.Publish(ctx, broker.PresenceTopic(r.name)); err != nil {
		if ctx.Err() == nil {
			// Written: the others' refresh finds it.
			h.log.Warn("chat: publish presence", "room", r.name, "err", err)
		}
		return false
	}
	return true
}

// readOthers reads who the other instances have online in r.
func (h *Hub) readOthers(ctx context.Context, r *chatRoom) {
	us, err := h.source.ChatOnline(ctx, r.name, r.holder, time.Now())
	if err != nil {
		if ctx.Err() == nil {
			h.log.Error("chat: read presence", "room", r.name, "err", err)
		}
		return
	}
	r.setOthers(us)
}

// sayGoodbye deletes r's rows when it stops, and tells the others.
func (h *Hub) sayGoodbye(ctx context.Context, r *chatRoom) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), goodbyeWait)
	defer cancel()
	if err := h.source.SetChatPresence(ctx, r.name, r.holder, nil, time.Time{}); err != nil {
		// The rows expire.
		h.log.Error("chat: delete presence", "room", r.name, "err", err)
		return
	}
	h.publishPresence(ctx, r)
}

// localUsers returns the ids of the users r serves, ascending.
func (r *chatRoom) localUsers() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.localIDs)
}

// setOthers records who the other instances have online, and sends the
// list when that changed it.
func (r *chatRoom) setOthers(us []models.User) {
	others := make(map[int64]string, len(us))
	for _, u := range us {
		others[u.ID] = u.Name
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.others = others
	r.stale = true
	r.syncPresenceLocked()
}

// syncPresenceLocked sends the online list to everyone when it changed,
// and reports whether it did. When the users served here changed, it
// wakes the presence loop to write them. A join or leave that is not a
// user's first or last costs nothing here.
func (r *chatRoom) syncPresenceLocked() bool {
	sent := false
	for r.stale || r.presence == nil {
		r.stale = false
		ids := make([]int64, 0, len(r.here))
		online := []string{}
		for id, u := range r.here {
			ids = append(ids, id)
			online = append(online, u.name)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, r.localIDs) {
			r.localIDs = ids
			select {
			case r.localChanged <- struct{}{}:
			default: // one pending write covers this change
			}
		}
		for id, name := range r.others {
			if r.here[id] == nil {
				online = append(online, name)
			}
		}
		slices.Sort(online)
		if r.presence != nil && slices.Equal(online, r.online) {
			return sent
		}
		r.online, r.presence = online, presenceFrame(online)
		sent = true
		// Anyone evicted here leaves r stale: the loop sends the list again.
		r.broadcastLocked(r.presence)
	}
	return sent
}

// presenceFrame is the {"type":"presence","online":[…]} frame.
func presenceFrame(online []string) []byte {
	b, _ := json.Marshal(struct {
		Type   string   `json:"type"`
		Online []string `json:"online"`
	}{"presence", online})
	return b
}
