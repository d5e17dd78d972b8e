//go:build unix

package stream

import (
	"net"
	"syscall"
)

// socket writes to, and looks for a hang-up on, a plain socket without
// waiting. The state of its calls lives here and the functions the
// runtime calls with the descriptor are made once, when the hub takes the
// connection over, so that neither a write nor a look allocates.
// One writer writes at a time (the connection is scheduled to one), and
// one goroutine looks: the hang-up watch's, or the hub's sweep.
type socket struct {
	raw syscall.RawConn

	p       []byte // being written
	n       int
	err     error
	writeFn func(fd uintptr) bool

	scratch []byte // what a look reads into
	gone    bool
	strayed int // bytes the client sent after its request
	lookFn  func(fd uintptr) bool
}

// maxStray is how much a stream's client may send after its request
// before it is let go: it has no reason to send anything, and each look at
// a readable socket costs a read (the hang-up watch looks again at once).
const maxStray = 4096

// newSocket is conn's socket, or nil when conn is not a plain one.
func newSocket(conn net.Conn) *socket {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	s := &socket{raw: raw}
	s.writeFn, s.lookFn = s.writeFD, s.lookFD
	return s
}

// write writes what the socket takes at once. Go keeps its sockets
// non-blocking, so a full one answers EAGAIN instead of making a shared
// writer wait.
func (s *socket) write(p []byte) (int, error) {
	s.p, s.n, s.err = p, 0, nil
	werr := s.raw.Write(s.writeFn)
	n, err := s.n, s.err
	s.p, s.err = nil, nil
	if err == nil {
		err = werr
	}
	return n, err
}

func (s *socket) writeFD(fd uintptr) bool {
	for s.n < len(s.p) {
		m, e := writeNonblocking(int(fd), s.p[s.n:])
		switch {
		case e == syscall.EINTR:
			continue
		case e == syscall.EAGAIN:
			return true
		case e != nil:
			s.err = e
			return true
		case m <= 0:
			return true
		}
		s.n += m
	}
	return true
}

// peerGone reports, without waiting, whether the client hung up. A stream's
// client sends nothing after its request, so what it sends is discarded
// into scratch, and one that sends more than maxStray counts as gone.
func (s *socket) peerGone(scratch []byte) bool {
	s.scratch, s.gone = scratch, false
	err := s.raw.Read(s.lookFn)
	s.scratch = nil
	return s.gone || err != nil
}

func (s *socket) lookFD(fd uintptr) bool {
	for {
		n, e := syscall.Read(int(fd), s.scratch)
		if n > 0 {
			s.strayed += n
		}
		s.gone = (e == nil && n == 0) || (e != nil && e != syscall.EAGAIN && e != syscall.EINTR) || s.strayed > maxStray
		// A full read may have left more: read on, up to maxStray.
		if s.gone || n < len(s.scratch) {
			return true
		}
	}
}
