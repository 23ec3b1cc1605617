package transport

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func init() {
	Register("usblp", func(u *url.URL) (Target, error) { return parseUSBLP(u) })
}

// usblp ioctls (linux/drivers/usb/class/usblp.c).
const (
	ioctlLPGETSTATUS  = 0x060b
	deviceIDBufSize   = 1024
	iocRead           = 2
	ioctlGetDeviceID  = iocRead<<30 | deviceIDBufSize<<16 | 'P'<<8 | 1 // LPIOC_GET_DEVICE_ID(1024)
	drainPollInterval = 100                                            // ms
)

// ListUSBPrinters lists the printers bound to the usblp driver, by node
// number. A machine without USB or without the driver has none (nil, nil).
func ListUSBPrinters() ([]USBPrinter, error) { return hostSysfs.list() }

// FindUSBPrinter returns the one usblp printer matching m, or an error
// wrapping [ErrNotFound] (none) or [ErrAmbiguous] (several: add Serial or
// BusPort).
func FindUSBPrinter(m USBMatch) (USBPrinter, error) { return hostSysfs.find(m) }

// OpenUSBLP opens a usblp device node such as /dev/usb/lp0.
func OpenUSBLP(ctx context.Context, node string) (*USBLPPort, error) {
	return (&USBLPTarget{Node: node, WriteTimeout: DefaultWriteTimeout, DrainTimeout: DefaultDrainTimeout}).open(ctx)
}

// OpenUSBLPMatch finds the usblp printer matching m in sysfs and opens it.
func OpenUSBLPMatch(ctx context.Context, m USBMatch) (*USBLPPort, error) {
	return (&USBLPTarget{Match: m, WriteTimeout: DefaultWriteTimeout, DrainTimeout: DefaultDrainTimeout}).open(ctx)
}

// Open finds the node (for an identity address) and opens it.
func (t *USBLPTarget) Open(ctx context.Context) (Port, error) {
	p, err := t.open(ctx)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (t *USBLPTarget) open(ctx context.Context) (*USBLPPort, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	node, err := t.resolve(hostSysfs)
	if err != nil {
		return nil, err
	}
	// os.OpenFile registers the node with the runtime poller (non-blocking),
	// so read and write deadlines work. Never call f.Fd(): it would switch
	// the fd back to blocking and silently disable the deadlines.
	f, err := os.OpenFile(node, os.O_RDWR, 0)
	if err != nil {
		return nil, usblpErr("open", t.String(), err)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		return nil, newErr("open", t.String(), ErrUnsupported, err)
	}
	p := &USBLPPort{f: f, rc: rc, node: node, target: t}
	if id, err := p.deviceIDText(); err == nil {
		p.idText = id
	}
	return p, nil
}

func usblpErr(op, addr string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENXIO):
		return newErr(op, addr, ErrNotFound, err)
	case errors.Is(err, syscall.ENODEV), errors.Is(err, syscall.ESHUTDOWN), errors.Is(err, syscall.EPIPE):
		return newErr(op, addr, ErrDisconnected, err)
	case errors.Is(err, syscall.EBUSY):
		return newErr(op, addr, ErrBusy, err)
	case errors.Is(err, fs.ErrPermission):
		return newErr(op, addr, ErrPermission, err)
	case errors.Is(err, fs.ErrClosed):
		return newErr(op, addr, ErrClosed, nil)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return newErr(op, addr, ErrTimeout, err)
	case errors.Is(err, syscall.ENOTTY):
		return &opError{Op: op, Addr: addr, Sentinel: ErrUnsupported, Err: err, Detail: "not a usblp printer node"}
	}
	return newErr(op, addr, ErrDisconnected, err)
}

// USBLPPort is an open usblp device. Open returns it as a [Port];
// type-assert to read the printer's status and identity.
type USBLPPort struct {
	f      *os.File
	rc     syscall.RawConn
	node   string
	target *USBLPTarget
	idText string
	ahead  pending
	readMu sync.Mutex
	closed atomic.Bool
}

// Info names the node and carries the IEEE 1284 id read at open.
func (p *USBLPPort) Info() Info { return Info{Kind: "usblp", Address: p.node, DeviceID: p.idText} }

// Node returns the device node the port has open, such as /dev/usb/lp1.
func (p *USBLPPort) Node() string { return p.node }

// Write sends b in bulk transfers. It fails with [ErrTimeout] when the
// printer takes nothing for the write timeout, and with [ErrDisconnected]
// when it is unplugged.
func (p *USBLPPort) Write(b []byte) (int, error) {
	if p.target.WriteTimeout > 0 {
		_ = p.f.SetWriteDeadline(time.Now().Add(p.target.WriteTimeout))
	}
	n, err := p.f.Write(b)
	if err != nil {
		return n, usblpErr("write", p.target.String(), err)
	}
	return n, nil
}

// ReadContext reads the printer's back channel (status replies). A
// one-way printer fails with [ErrOneWay].
func (p *USBLPPort) ReadContext(ctx context.Context, b []byte) (int, error) {
	if n, ok := p.ahead.take(b); ok {
		return n, nil
	}
	p.readMu.Lock()
	defer p.readMu.Unlock()
	return readContext(ctx, p.f, b, p.target.String(), func(err error) error {
		if errors.Is(err, syscall.EINVAL) {
			return newErr("read", p.target.String(), ErrOneWay, err)
		}
		return usblpErr("read", p.target.String(), err)
	})
}

// Status asks the printer for its port status byte (LPGETSTATUS).
func (p *USBLPPort) Status() (Status, error) {
	var v int
	var ierr error
	if err := p.rc.Control(func(fd uintptr) { v, ierr = unix.IoctlGetInt(int(fd), ioctlLPGETSTATUS) }); err != nil {
		return 0, usblpErr("status", p.target.String(), err)
	}
	if ierr != nil {
		return 0, usblpErr("status", p.target.String(), ierr)
	}
	return Status(v), nil
}

// Check tells whether the printer is still plugged in: its node must still
// be the one this port has open (the kernel removes it on unplug and may
// give the name to another printer later), and the status request must not
// fail with ENODEV.
func (p *USBLPPort) Check() error {
	open, err := p.f.Stat()
	if err != nil {
		return usblpErr("check", p.target.String(), err)
	}
	if now, err := os.Stat(p.node); err != nil || !os.SameFile(open, now) {
		return newErrf("check", p.target.String(), ErrDisconnected, "%s is gone: the printer was unplugged", p.node)
	}
	_, err = p.Status()
	if errors.Is(err, ErrUnsupported) {
		return nil // a node without the status ioctl
	}
	return err
}

// DeviceID asks the printer for its IEEE 1284 device id
// (LPIOC_GET_DEVICE_ID) and parses it.
func (p *USBLPPort) DeviceID() (DeviceID, error) {
	s, err := p.deviceIDText()
	if err != nil {
		return DeviceID{}, err
	}
	d, err := ParseDeviceID(s)
	if err != nil {
		return DeviceID{}, fmt.Errorf("transport: device id %s: %w", p.target, err)
	}
	return d, nil
}

func (p *USBLPPort) deviceIDText() (string, error) {
	buf := make([]byte, deviceIDBufSize)
	var errno syscall.Errno
	if err := p.rc.Control(func(fd uintptr) {
		_, _, errno = unix.Syscall(unix.SYS_IOCTL, fd, ioctlGetDeviceID, uintptr(unsafe.Pointer(&buf[0])))
	}); err != nil {
		return "", usblpErr("device id", p.target.String(), err)
	}
	if errno != 0 {
		return "", usblpErr("device id", p.target.String(), errno)
	}
	if len(buf) < 2 || int(buf[0])<<8|int(buf[1]) <= 2 {
		return "", newErrf("device id", p.target.String(), ErrUnsupported, "the printer reports no IEEE 1284 id")
	}
	n := min(int(buf[0])<<8|int(buf[1]), len(buf))
	return string(buf[2:n]), nil
}

// Close waits until the printer has taken the last bulk transfer (POLLOUT,
// bounded by the drain timeout), then closes the node. Closing earlier
// would cancel transfers in flight and cut off the end of the label.
func (p *USBLPPort) Close() error {
	if !p.closed.CompareAndSwap(false, true) {
		return nil
	}
	drainErr := p.drain("close")
	if err := p.f.Close(); err != nil {
		return usblpErr("close", p.target.String(), err)
	}
	return drainErr
}

// Flush waits (bounded by the drain timeout) until the printer has taken
// the last bulk transfer.
func (p *USBLPPort) Flush() error {
	if p.closed.Load() {
		return newErr("flush", p.target.String(), ErrClosed, nil)
	}
	return p.drain("flush")
}

func (p *USBLPPort) drain(op string) error {
	deadline := time.Now().Add(p.target.DrainTimeout)
	var perr error
	done := false
	err := p.rc.Control(func(fd uintptr) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		for !done && perr == nil {
			n, err := unix.Poll(fds, drainPollInterval)
			switch {
			case errors.Is(err, unix.EINTR):
			case err != nil:
				perr = err
			case n > 0 && fds[0].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0:
				perr = syscall.ENODEV
			case n > 0:
				done = true
			case time.Now().After(deadline):
				perr = os.ErrDeadlineExceeded
			}
		}
	})
	if err == nil {
		err = perr
	}
	if err != nil {
		return usblpErr(op, p.target.String(), fmt.Errorf("waiting for the last bytes to reach the printer: %w", err))
	}
	return nil
}
