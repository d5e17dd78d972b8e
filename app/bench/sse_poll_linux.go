//go:build linux

package bench

import (
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
)

// ssePoller reads many SSE streams from a few goroutines, each waiting on
// its own epoll set, instead of one goroutine per stream: at 10,000 streams
// a goroutine's wake-up, two reads (the second finds the socket empty) and
// its scheduling cost the load client more CPU than the server spends
// writing, on the same cores. Here a readable socket costs one read.
type ssePoller struct {
	loops []*pollLoop
	next  int
	mu    sync.Mutex
}

// pollLoop is one goroutine's epoll set and the streams in it.
type pollLoop struct {
	epfd int
	mu   sync.Mutex
	// byFD[fd] is the stream on descriptor fd (descriptors are small
	// numbers: a slice is cheaper to look up than a map, per event).
	byFD    []*polledStream
	stopped bool
}

// polledStream is one stream the poller owns: its descriptor (a duplicate
// of the dialled connection's, which is closed) and its parser.
type polledStream struct {
	fd     int
	in     *fdReader
	sr     *sseReader
	handle func(sseFrame)
}

// pollWait bounds one wait, so a loop sees the run stop without a wake-up
// descriptor of its own.
const pollWait = 100 // ms

func newSSEPoller(loops int) (*ssePoller, error) {
	p := &ssePoller{}
	for range loops {
		epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			p.closeSets()
			return nil, err
		}
		p.loops = append(p.loops, &pollLoop{epfd: epfd})
	}
	return p, nil
}

func (p *ssePoller) closeSets() {
	for _, l := range p.loops {
		syscall.Close(l.epfd)
	}
}

// add takes conn's stream over: from here on the poller reads it, first
// the bytes already read past sr's position (buffered), and calls handle
// for every frame, until the stream ends or the run stops. conn is closed;
// the poller's duplicate descriptor keeps the connection. It reports false
// (conn untouched) when conn is not a plain TCP connection.
func (p *ssePoller) add(conn net.Conn, sr *sseReader, buffered []byte, handle func(sseFrame)) (bool, error) {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return false, nil
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return false, nil
	}
	fd := -1
	var dupErr error
	if err := raw.Control(func(s uintptr) { fd, dupErr = dupCloexec(int(s)) }); err != nil || dupErr != nil {
		return false, errors.Join(err, dupErr)
	}
	// Go keeps the socket non-blocking; the duplicate shares that.
	conn.Close()
	ps := &polledStream{fd: fd, in: &fdReader{fd: fd, pre: buffered}, sr: sr, handle: handle}
	sr.r = ps.in

	// Frames already read with the response are parsed first: epoll
	// reports only what is still in the socket.
	if !drain(ps) {
		syscall.Close(fd)
		return true, io.EOF
	}
	p.mu.Lock()
	l := p.loops[p.next%len(p.loops)]
	p.next++
	p.mu.Unlock()
	// Under l.mu: a loop that has stopped has closed its set and its
	// streams, and must not be handed another.
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		syscall.Close(fd)
		return true, errPollerStopped
	}
	// Edge-triggered: a level-triggered set polls every socket it
	// reported once more at the next wait, to see that it is drained (a
	// fifth of the client's CPU in a perf profile of scenario A). A read
	// that did not fill the buffer drained the socket, and what arrives
	// after it is a new edge, unless the peer has closed: its end comes in
	// the same edge as the data before it (see fdReader).
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | epollET, Fd: int32(fd)}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		syscall.Close(fd)
		return true, err
	}
	if fd >= len(l.byFD) {
		l.byFD = append(l.byFD, make([]*polledStream, fd+1-len(l.byFD))...)
	}
	l.byFD[fd] = ps
	return true, nil
}

var errPollerStopped = errors.New("bench: the run is stopping")

// run is loop's goroutine: it reads every stream that is readable until
// stopping reports true, then closes them all. ended is told of each
// stream that ended before that.
func (l *pollLoop) run(stopping func() bool, ended func()) {
	events := make([]syscall.EpollEvent, 256)
	defer func() {
		l.mu.Lock()
		for _, ps := range l.byFD {
			if ps != nil {
				syscall.Close(ps.fd)
			}
		}
		l.byFD, l.stopped = nil, true
		l.mu.Unlock()
		syscall.Close(l.epfd)
	}()
	for !stopping() {
		n, err := syscall.EpollWait(l.epfd, events, pollWait)
		if err != nil && err != syscall.EINTR {
			return
		}

		for _, ev := range events[:max(n, 0)] {
			l.mu.Lock()
			var ps *polledStream
			if int(ev.Fd) < len(l.byFD) {
				ps = l.byFD[ev.Fd]
			}
			l.mu.Unlock()
			if ps == nil {
				continue
			}
			ps.in.drained = false
			ps.in.closing = ev.Events&(syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0
			if !drain(ps) {
				if !stopping() {
					ended()
				}
				l.drop(ps)
			}
		}
	}
}

// drain parses what ps's socket holds now; false once the stream ended.
func drain(ps *polledStream) bool {
	for {
		f, err := ps.sr.Next()
		switch {
		case err == errWouldBlock:
			return true
		case err != nil:
			return false
		}
		ps.handle(f)
	}
}

// drop forgets ps and closes its descriptor (which takes it out of the
// epoll set).
func (l *pollLoop) drop(ps *polledStream) {
	l.mu.Lock()
	l.byFD[ps.fd] = nil
	l.mu.Unlock()
	syscall.Close(ps.fd)
}

// fdReader reads a non-blocking descriptor for sseReader: errWouldBlock
// when it holds nothing now. After a read that did not fill the buffer
// the socket is taken to be empty until the next edge, which saves the
// read that would only find that out; but once the peer has closed, no
// edge follows the data that came before its end, so then it reads on
// until the end.
type fdReader struct {
	fd      int
	pre     []byte // read with the response, before the poller took over
	drained bool
	closing bool // the last edge reported the peer's end
}

func (f *fdReader) Read(p []byte) (int, error) {
	if len(f.pre) > 0 {
		n := copy(p, f.pre)
		f.pre = f.pre[n:]
		return n, nil
	}
	if f.drained {
		return 0, errWouldBlock
	}
	for {
		n, err := readNonblocking(f.fd, p)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			f.drained = true
			return 0, errWouldBlock
		case err != nil:
			return 0, err
		case n == 0:
			return 0, io.EOF
		}
		if n < len(p) && !f.closing {
			f.drained = true
		}
		return n, nil
	}
}

const defaultReaders = "poll"

// pollLoops is how many goroutines read the streams. One keeps up with
// 10,000 streams at a notification a second each, and leaves the other
// core to the server and the publisher.
const pollLoops = 1

// dupCloexec duplicates fd with close-on-exec set in the same call.
func dupCloexec(fd int) (int, error) {
	nfd, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if e != 0 {
		return -1, e
	}
	return int(nfd), nil
}

// epollET is EPOLLET as the event mask's type (syscall's constant is a
// negative int).
const epollET = 1 << 31
