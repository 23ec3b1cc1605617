//go:build linux

package ptytest

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Pair is one pseudo-terminal.
type Pair struct {
	Ctrl *os.File // the device's side: write what the device sends, read what it receives
	Name string   // the follower's path, e.g. /dev/pts/3
}

// Open creates a pseudo-terminal pair.
func Open() (*Pair, error) {
	ctrl, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/ptmx: %w", err)
	}
	rc, err := ctrl.SyscallConn()
	if err != nil {
		ctrl.Close()
		return nil, err
	}
	var n int
	var cerr error
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
		return nil, fmt.Errorf("set up pseudo-terminal: %w", err)
	}
	return &Pair{Ctrl: ctrl, Name: fmt.Sprintf("/dev/pts/%d", n)}, nil
}

// Type writes s followed by CR, as a scanner in its default mode does.
func (p *Pair) Type(s string) error {
	_, err := p.Ctrl.Write([]byte(s + "\r"))
	return err
}

// Close closes the controller: to the follower, the device was unplugged.
func (p *Pair) Close() error { return p.Ctrl.Close() }
