//go:build unix && (!linux || race)

package stream

import "syscall"

// writeNonblocking is syscall.Write: elsewhere than on Linux, and under the
// race detector, which sees the buffer read only through it.
func writeNonblocking(fd int, p []byte) (int, error) { return syscall.Write(fd, p) }
