//go:build linux && !race

package channels

import (
	"syscall"
	"unsafe"
)

// writeNonblocking writes p to a non-blocking socket without telling the
// runtime a syscall is under way (syscall.Write does): such a write never
// waits, yet the runtime's monitor took the processor of a writer found in
// one and handed it to another thread, 12% of the server's CPU in
// context switches and the monitor's own polling in a perf profile of
// scenario A at 10,000 streams. It is safe only because Go keeps its
// sockets non-blocking; race builds use syscall.Write, whose buffer reads
// the race detector sees.
func writeNonblocking(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
