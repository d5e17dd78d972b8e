//go:build unix

package channels

import (
	"net"
	"syscall"
)

// rawConn is conn's socket, or nil when conn is not a plain one.
func rawConn(conn net.Conn) syscall.RawConn {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// writeRaw writes what the socket takes at once. Go keeps its sockets
// non-blocking, so a full one answers EAGAIN instead of making a shared
// writer wait.
func writeRaw(raw syscall.RawConn, p []byte) (n int, err error) {
	werr := raw.Write(func(fd uintptr) bool {
		for n < len(p) {
			m, e := syscall.Write(int(fd), p[n:])
			switch {
			case e == syscall.EINTR:
				continue
			case e == syscall.EAGAIN:
				return true
			case e != nil:
				err = e
				return true
			case m <= 0:
				return true
			}
			n += m
		}
		return true
	})
	if err == nil {
		err = werr
	}
	return n, err
}

// peerGone reports, without waiting, whether the client hung up. A stream's
// client sends nothing after its request, so what it sends is discarded.
func peerGone(raw syscall.RawConn, scratch []byte) bool {
	gone := false
	err := raw.Read(func(fd uintptr) bool {
		n, e := syscall.Read(int(fd), scratch)
		gone = (e == nil && n == 0) || (e != nil && e != syscall.EAGAIN && e != syscall.EINTR)
		return true
	})
	return gone || err != nil
}
