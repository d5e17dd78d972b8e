package stream

import "beacon/app/audience"

// The heartbeat: every Options.Heartbeat the hub's Run calls beat, which
// offers every stream the ": ping" comment (sse.go), so that proxies and
// PaaS routers keep idle streams open.

// heartbeat is the one ping event every stream shares.
var heartbeat = &Event{Frame: ping}

// beat offers the heartbeat to every stream; one whose queue is full
// simply skips it.
func (h *Hub) beat() { h.broadcast(heartbeat, audience.Everyone, false) }
