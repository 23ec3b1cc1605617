package transport

import (
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// waitAcked polls the socket's unacknowledged byte count (TIOCOUTQ) until it
// is zero, then checks that the connection was not reset meanwhile.
func (p *tcpPort) waitAcked(timeout time.Duration) error {
	tc, ok := p.conn.(*net.TCPConn)
	if !ok {
		return nil // not a kernel socket (tests over net.Pipe)
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return p.classify("flush", err, 0, 0)
	}
	deadline := time.Now().Add(timeout)
	wait := 20 * time.Microsecond
	for {
		var queued, soErr int
		var qerr, serr error
		if err := rc.Control(func(fd uintptr) {
			queued, qerr = ioctlOutq(fd)
			soErr, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
		}); err != nil {
			return p.classify("flush", err, 0, 0)
		}
		if serr == nil && soErr != 0 {
			return p.classify("flush", syscall.Errno(soErr), 0, 0)
		}
		if qerr != nil || queued == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return newErrf("flush", p.target.String(), ErrTimeout, "the printer has not taken the last %d bytes within %s", queued, timeout)
		}
		time.Sleep(wait)
		wait = min(2*wait, 20*time.Millisecond)
	}
}

// ioctlOutq returns the bytes of a socket not yet acknowledged by the peer.
func ioctlOutq(fd uintptr) (int, error) { return unix.IoctlGetInt(int(fd), unix.TIOCOUTQ) }
