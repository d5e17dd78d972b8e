//go:build !unix

package stream

import (
	"errors"
	"net"
)

// Elsewhere than on unix every connection is written with a short deadline
// (streamConn.writeNow), and a hung-up client is found by a failed write.

type socket struct{}

func newSocket(net.Conn) *socket { return nil }

func (*socket) write([]byte) (int, error) {
	return 0, errors.New("no raw socket writes on this system")
}

func (*socket) peerGone([]byte) bool { return false }
