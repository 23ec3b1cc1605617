//go:build linux

package scanner

import (
	"fmt"
	"os"
	"syscall"
	"testing"

	"go.bug.st/serial"
	"golang.org/x/sys/unix"
)

// ptyPair is a real pseudo-terminal: the controller plays the scanner, the
// follower is opened with go.bug.st/serial like a real port.
type ptyPair struct {
	ctrl *os.File
	name string
}

func newPty(t testing.TB) *ptyPair {
	t.Helper()
	ctrl, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	var n int
	var cerr error
	rc, err := ctrl.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	err = rc.Control(func(fd uintptr) {
		if cerr = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); cerr != nil {
			return
		}
		n, cerr = unix.IoctlGetInt(int(fd), unix.TIOCGPTN)
	})
	if err == nil {
		err = cerr
	}
	if err != nil {
		ctrl.Close()
		t.Fatalf("set up pty: %v", err)
	}
	p := &ptyPair{ctrl: ctrl, name: fmt.Sprintf("/dev/pts/%d", n)}
	t.Cleanup(func() { p.ctrl.Close() })
	return p
}

// openPort opens the follower side as a serial port.
func (p *ptyPair) openPort(t testing.TB) serial.Port {
	t.Helper()
	port, err := serial.Open(p.name, &serial.Mode{BaudRate: 9600})
	if err != nil {
		t.Fatalf("open %s: %v", p.name, err)
	}
	t.Cleanup(func() { port.Close() })
	return port
}

func (p *ptyPair) write(t testing.TB, s string) {
	t.Helper()
	if _, err := p.ctrl.Write([]byte(s)); err != nil {
		t.Fatalf("write to pty: %v", err)
	}
}
