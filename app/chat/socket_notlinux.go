//go:build !linux

package chat

import "syscall"

// awaitReadable reports that it cannot wait here: the read pump blocks in
// gorilla's read instead.
func awaitReadable(syscall.RawConn, *[1]byte) bool { return true }
