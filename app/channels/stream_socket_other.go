//go:build !unix

package channels

import (
	"errors"
	"net"
	"syscall"
)

// Elsewhere than on unix every connection is written with a short deadline
// (streamConn.writeNow), and a hung-up client is found by a failed write.

func rawConn(net.Conn) syscall.RawConn { return nil }

func writeRaw(syscall.RawConn, []byte) (int, error) {
	return 0, errors.New("no raw socket writes on this system")
}

func peerGone(syscall.RawConn, []byte) bool { return false }
