package peakday

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Pty is a pseudo-terminal pair: the agent opens Path as a serial scanner,
// the simulated scanner writes to the controller.
type Pty struct {
	Path string
	ctl  *os.File
}

// OpenPty makes a pseudo-terminal pair.
func OpenPty() (*Pty, error) {
	f, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("open /dev/ptmx: %w", err)
	}
	var n uint32
	var perr error
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("pty: %w", err)
	}
	err = rc.Control(func(fd uintptr) {
		if perr = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); perr != nil {
			return
		}
		n, perr = unix.IoctlGetUint32(int(fd), unix.TIOCGPTN)
	})
	if err == nil {
		err = perr
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("pty unlock: %w", err)
	}
	return &Pty{Path: "/dev/pts/" + strconv.Itoa(int(n)), ctl: f}, nil
}

// Write sends bytes as the scanner would.
func (p *Pty) Write(b []byte) (int, error) { return p.ctl.Write(b) }

// Close unplugs the scanner.
func (p *Pty) Close() error { return p.ctl.Close() }

// drain reads and drops what the agent writes to the scanner (it rarely does),
// so the pty's buffer never fills.
func (p *Pty) drain() {
	buf := make([]byte, 1024)
	for {
		if _, err := p.ctl.Read(buf); err != nil {
			return
		}
	}
}
