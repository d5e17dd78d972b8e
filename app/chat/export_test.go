package chat

// RestingUsers is how many users without sockets the hub still keeps an
// allowance for.
func (h *Hub) RestingUsers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.resting)
}

// PingBurst is how many pings a chat client may send at once.
const PingBurst = pingBurst
