package channels

import (
	"encoding/json"
	"slices"
)

// Presence: who is online in a room (each user once, however many tabs),
// sent to everyone in it whenever that changes, and to each who joins.

// syncPresenceLocked sends the online list to everyone when it changed,
// and reports whether it did.
func (r *chatRoom) syncPresenceLocked() bool {
	sent := false
	for {
		seen := make(map[int64]bool, len(r.clients))
		online := []string{}
		for c := range r.clients {
			if !seen[c.user.ID] {
				seen[c.user.ID] = true
				online = append(online, c.user.Name)
			}
		}
		slices.Sort(online)
		if r.presence != nil && slices.Equal(online, r.online) {
			return sent
		}
		r.online, r.presence = online, presenceFrame(online)
		sent = true
		if !r.broadcastLocked(r.presence) {
			return sent
		}
	}
}

// presenceFrame is the {"type":"presence","online":[…]} frame.
func presenceFrame(online []string) []byte {
	b, _ := json.Marshal(struct {
		Type   string   `json:"type"`
		Online []string `json:"online"`
	}{"presence", online})
	return b
}
