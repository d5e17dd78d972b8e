//go:build unix && !linux

package channels

import "syscall"

func writeNonblocking(fd int, p []byte) (int, error) { return syscall.Write(fd, p) }
