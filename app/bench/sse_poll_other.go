//go:build !linux

package bench

import (
	"errors"
	"net"
)

// ssePoller is Linux's (epoll); elsewhere every stream has a goroutine.
type ssePoller struct{ loops []*pollLoop }

type pollLoop struct{}

func newSSEPoller(int) (*ssePoller, error) {
	return nil, errors.New("bench: --readers poll needs Linux")
}

func (p *ssePoller) add(net.Conn, *sseReader, []byte, func(sseFrame)) (bool, error) {
	return false, nil
}

func (l *pollLoop) run(func() bool, func()) {}

const defaultReaders = "goroutines"

const pollLoops = 0
