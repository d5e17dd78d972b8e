//go:build linux && race

package bench

import "syscall"

// readNonblocking is syscall.Read under the race detector, which sees the
// buffer written only through it.
func readNonblocking(fd int, p []byte) (int, error) { return syscall.Read(fd, p) }
