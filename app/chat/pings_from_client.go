package chat

import (
	"errors"
	"net"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"
)

// A client's pings are answered within an allowance. Browsers cannot send
// pings at all, and each answer is a write: unlimited, one client's flood
// of them costs a core and slows everyone else's chat.
const (
	pingBurst  = 10            // pings answered at once
	pingRefill = rate.Limit(1) // and one more each second
)

// errPingFlood is what answerPing makes gorilla's read return past the
// allowance; it is also the close reason.
var errPingFlood = errors.New("flooding: too many pings")

// answerPing is c's ping handler: gorilla's default (a pong with the
// ping's data), within c's allowance. Only the read pump calls it.
func (c *chatClient) answerPing(data string) error {
	if c.pings == nil {
		// Made at the first ping: most clients never send one.
		c.pings = rate.NewLimiter(pingRefill, pingBurst)
	}
	if !c.pings.Allow() {
		return errPingFlood
	}
	err := c.conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeWait))
	var ne net.Error
	if errors.Is(err, websocket.ErrCloseSent) || errors.As(err, &ne) && ne.Timeout() {
		// As gorilla's default: the close under way, or a peer that does
		// not read, which its writer's deadline deals with.
		return nil
	}
	return err
}
