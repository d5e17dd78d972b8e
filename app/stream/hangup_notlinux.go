//go:build !linux

package stream

import "errors"

// Elsewhere than on Linux the hub's sweep finds hung-up clients.
type hangupWatch struct{}

func newHangupWatch() *hangupWatch { return nil }

func (*hangupWatch) open() error {
	return errors.New("hang-up watch: needs Linux's epoll")
}

func (*hangupWatch) watch(*streamConn) bool           { return false }
func (*hangupWatch) forget(*streamConn)               {}
func (*hangupWatch) run(func(*streamConn) bool) error { return nil }
func (*hangupWatch) close()                           {}
