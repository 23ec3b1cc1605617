//go:build !linux

package transport

import (
	"context"
	"net/url"
	"runtime"
)

func init() {
	Register("usblp", func(u *url.URL) (Target, error) {
		t, err := parseUSBLP(u)
		if err != nil {
			return nil, err
		}
		return nil, errUSBLP("parse", t.String())
	})
}

func errUSBLP(op, addr string) error {
	hint := ""
	if runtime.GOOS == "windows" {
		hint = "; use winspool://Printer Name"
	}
	return newErrf(op, addr, ErrUnsupported, "usblp is the Linux USB printer driver and does not exist on %s%s", runtime.GOOS, hint)
}

// ListUSBPrinters fails with [ErrUnsupported]: usblp exists only on Linux.
func ListUSBPrinters() ([]USBPrinter, error) { return nil, errUSBLP("list", "usblp") }

// FindUSBPrinter fails with [ErrUnsupported]: usblp exists only on Linux.
func FindUSBPrinter(m USBMatch) (USBPrinter, error) {
	return USBPrinter{}, errUSBLP("find", m.String())
}

// OpenUSBLP fails with [ErrUnsupported]: usblp exists only on Linux.
func OpenUSBLP(ctx context.Context, node string) (*USBLPPort, error) {
	return nil, errUSBLP("open", "usblp://"+node)
}

// OpenUSBLPMatch fails with [ErrUnsupported]: usblp exists only on Linux.
func OpenUSBLPMatch(ctx context.Context, m USBMatch) (*USBLPPort, error) {
	return nil, errUSBLP("open", m.String())
}

// Open fails with [ErrUnsupported].
func (t *USBLPTarget) Open(ctx context.Context) (Port, error) {
	return nil, errUSBLP("open", t.String())
}

// USBLPPort exists only on Linux; on this system no value of it is ever
// returned and every method fails with [ErrUnsupported].
type USBLPPort struct{}

func (p *USBLPPort) Info() Info                  { return Info{Kind: "usblp"} }
func (p *USBLPPort) Node() string                { return "" }
func (p *USBLPPort) Write(b []byte) (int, error) { return 0, errUSBLP("write", "usblp") }
func (p *USBLPPort) Status() (Status, error)     { return 0, errUSBLP("status", "usblp") }
func (p *USBLPPort) DeviceID() (DeviceID, error) { return DeviceID{}, errUSBLP("device id", "usblp") }
func (p *USBLPPort) Flush() error                { return errUSBLP("flush", "usblp") }
func (p *USBLPPort) Close() error                { return nil }
func (p *USBLPPort) ReadContext(ctx context.Context, b []byte) (int, error) {
	return 0, errUSBLP("read", "usblp")
}
