//go:build linux

package chat

import "syscall"

// awaitReadable waits, parked on a small stack, until raw has something
// to read (or the peer hung up, or the read deadline passed), and reports
// whether it is still open for reading.
func awaitReadable(raw syscall.RawConn, scratch *[1]byte) bool {
	err := raw.Read(func(fd uintptr) bool {
		// Peek, so that what is there stays for gorilla; 0 is the peer's
		// end, which gorilla reads too.
		for {
			_, _, e := syscall.Recvfrom(int(fd), scratch[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			if e != syscall.EINTR {
				return e != syscall.EAGAIN
			}
		}
	})
	return err == nil
}
