package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.bug.st/serial"
)

func init() { Register("serial", parseSerial) }

// SerialTarget is a printer on a serial line (RS-232 or a USB serial adapter):
//
//	serial:///dev/ttyUSB0?baud=9600&bits=8&parity=none&stop=1&flow=none
//	serial://COM3?baud=115200                        (Windows)
//
// baud: any rate the driver accepts (default 9600); bits: 5–8 (default 8);
// parity: none, odd, even, mark, space; stop: 1, 1.5, 2; flow: none (the
// only flow control the serial library can set; hardware and XON/XOFF flow
// control are refused). dtr and rts (on/off) drive the modem lines after
// opening where the device has them; on devices without modem lines (a
// pseudo-terminal, some adapters) they are skipped, never an error.
// write_timeout (default 30s, 0s = none) is the time a printer may stop
// taking data (a USB serial printer out of paper) on top of the time the
// bytes need at the line's baud rate.
type SerialTarget struct {
	Path         string
	Mode         serial.Mode
	DTR          *bool // nil: leave as the driver set it
	RTS          *bool
	WriteTimeout time.Duration
}

func parseSerial(u *url.URL) (Target, error) {
	raw := u.String()
	p := u.Path
	if u.Host != "" {
		p = u.Host + u.Path // serial://COM3
	} else if runtime.GOOS == "windows" {
		p = strings.TrimPrefix(p, "/") // serial:///COM3
	}
	if p == "" || p == "/" {
		return nil, newErrf("parse", raw, ErrBadAddress, "no device; write serial:///dev/ttyUSB0?baud=9600")
	}
	if badPath(p) {
		return nil, newErrf("parse", raw, ErrBadAddress, "the device path has control characters")
	}
	t := &SerialTarget{Path: p}
	q := newQuery(u, raw)
	t.Mode.BaudRate = q.integer("baud", 9600)
	if t.Mode.BaudRate <= 0 {
		q.fail("baud=%d must be positive", t.Mode.BaudRate)
	}
	t.Mode.DataBits = q.integer("bits", 8)
	if t.Mode.DataBits < 5 || t.Mode.DataBits > 8 {
		q.fail("bits=%d must be 5, 6, 7 or 8", t.Mode.DataBits)
	}
	switch s := strings.ToLower(q.str("parity", "none")); s {
	case "none", "n":
		t.Mode.Parity = serial.NoParity
	case "odd", "o":
		t.Mode.Parity = serial.OddParity
	case "even", "e":
		t.Mode.Parity = serial.EvenParity
	case "mark", "m":
		t.Mode.Parity = serial.MarkParity
	case "space", "s":
		t.Mode.Parity = serial.SpaceParity
	default:
		q.fail("parity=%q must be none, odd, even, mark or space", s)
	}
	switch s := q.str("stop", "1"); s {
	case "1":
		t.Mode.StopBits = serial.OneStopBit
	case "1.5":
		t.Mode.StopBits = serial.OnePointFiveStopBits
	case "2":
		t.Mode.StopBits = serial.TwoStopBits
	default:
		q.fail("stop=%q must be 1, 1.5 or 2", s)
	}
	t.DTR = onOff(q, "dtr")
	t.RTS = onOff(q, "rts")
	t.WriteTimeout = q.duration("write_timeout", DefaultWriteTimeout)
	flow := strings.ToLower(q.str("flow", "none"))
	if err := q.done(); err != nil {
		return nil, err
	}
	if flow != "none" {
		return nil, newErrf("parse", raw, ErrUnsupported, "flow=%s: only flow=none can be set; switch the printer to no flow control", flow)
	}
	return t, nil
}

func onOff(q *query, key string) *bool {
	var v bool
	switch s := strings.ToLower(q.str(key, "")); s {
	case "":
		return nil
	case "on", "1", "true":
		v = true
	case "off", "0", "false":
	default:
		q.fail("%s=%q must be on or off", key, s)
	}
	return &v
}

func (t *SerialTarget) String() string {
	p := escapePath(t.Path)
	if !strings.HasPrefix(t.Path, "/") && (!validHost(t.Path) || strings.Contains(t.Path, "%")) {
		p = "/" + p
	}
	s := fmt.Sprintf("serial://%s?baud=%d", p, t.Mode.BaudRate)
	if t.Mode.DataBits != 8 {
		s += fmt.Sprintf("&bits=%d", t.Mode.DataBits)
	}
	if t.Mode.Parity != serial.NoParity {
		s += "&parity=" + [...]string{"none", "odd", "even", "mark", "space"}[t.Mode.Parity]
	}
	if t.Mode.StopBits != serial.OneStopBit {
		s += "&stop=" + [...]string{"1", "1.5", "2"}[t.Mode.StopBits]
	}
	for _, l := range []struct {
		k string
		v *bool
	}{{"dtr", t.DTR}, {"rts", t.RTS}} {
		if l.v != nil {
			s += "&" + l.k + "=" + map[bool]string{true: "on", false: "off"}[*l.v]
		}
	}
	if t.WriteTimeout != DefaultWriteTimeout {
		s += "&write_timeout=" + t.WriteTimeout.String()
	}
	return s
}

// Open opens and configures the line.
func (t *SerialTarget) Open(ctx context.Context) (Port, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	mode := t.Mode
	sp, err := serial.Open(t.Path, &mode)
	if err != nil {
		return nil, serialOpenErr(t.String(), err)
	}
	p := &SerialPort{port: sp, target: t}
	for _, line := range []struct {
		want *bool
		set  func(bool) error
	}{{t.DTR, sp.SetDTR}, {t.RTS, sp.SetRTS}} {
		if line.want == nil {
			continue
		}
		if err := line.set(*line.want); err != nil && !modemUnsupported(err) {
			_ = sp.Close()
			return nil, newErr("open", t.String(), ErrDisconnected, err)
		}
	}
	return p, nil
}

func serialOpenErr(addr string, err error) error {
	var pe *serial.PortError
	if errors.As(err, &pe) {
		switch pe.Code() {
		case serial.PortBusy:
			return newErr("open", addr, ErrBusy, err)
		case serial.PermissionDenied:
			return newErr("open", addr, ErrPermission, err)
		case serial.PortNotFound:
			return newErr("open", addr, ErrNotFound, err)
		case serial.InvalidSpeed, serial.InvalidDataBits, serial.InvalidParity, serial.InvalidStopBits:
			return newErr("open", addr, ErrBadAddress, err)
		}
	}
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENXIO), errors.Is(err, syscall.ENODEV):
		return newErr("open", addr, ErrNotFound, err)
	case errors.Is(err, fs.ErrPermission):
		return newErr("open", addr, ErrPermission, err)
	case errors.Is(err, syscall.EBUSY):
		return newErr("open", addr, ErrBusy, err)
	}
	return newErr("open", addr, ErrOffline, err)
}

// modemUnsupported reports a modem-control ioctl the device does not have
// (ENOTTY on a pseudo-terminal, EINVAL on some USB adapters).
func modemUnsupported(err error) bool {
	var pe *serial.PortError
	if errors.As(err, &pe) && pe.Code() == serial.FunctionNotImplemented {
		return true
	}
	return errors.Is(err, syscall.ENOTTY) || errors.Is(err, syscall.EINVAL)
}

// SerialPort is an open serial line. Open returns it as a [Port]; type-assert
// to reach the modem lines.
type SerialPort struct {
	port   serial.Port
	target *SerialTarget
	ahead  pending
	readMu sync.Mutex
	closed atomic.Bool
	stuck  atomic.Bool // a write or drain timed out and is still blocked
}

// Info describes the line.
func (p *SerialPort) Info() Info { return Info{Kind: "serial", Address: p.target.Path} }

// Write sends b. It fails with [ErrTimeout] when the device stops taking
// data for longer than the write timeout; the port is then unusable (the
// stuck write cannot be cancelled) and must be reopened.
func (p *SerialPort) Write(b []byte) (int, error) {
	b = bytes.Clone(b) // a write that times out keeps running on its own
	n, err := p.bounded("write", p.lineTime(len(b)), func() (int, error) { return p.port.Write(b) })
	if err != nil {
		return n, err
	}
	if n < len(b) {
		return n, newErrf("write", p.target.String(), ErrDisconnected, "short write: %d of %d bytes", n, len(b))
	}
	return n, nil
}

// lineTime is how long n bytes take on the wire (10 bits per byte with
// start and stop bits), plus the write timeout.
func (p *SerialPort) lineTime(n int) time.Duration {
	if p.target.WriteTimeout <= 0 {
		return 0
	}
	baud := max(p.target.Mode.BaudRate, 1)
	return p.target.WriteTimeout + time.Duration(n)*10*time.Second/time.Duration(baud)
}

// bounded runs a blocking call of the serial library, giving up after limit
// (0 = never). The serial library cannot cancel a blocked write, so after a
// timeout the call is left to finish on its own and the port refuses further
// writes.
func (p *SerialPort) bounded(op string, limit time.Duration, call func() (int, error)) (int, error) {
	if p.stuck.Load() {
		return 0, newErrf(op, p.target.String(), ErrTimeout, "an earlier write is still stuck; reopen the printer")
	}
	if limit <= 0 {
		n, err := call()
		if err != nil {
			return n, p.classify(op, err)
		}
		return n, nil
	}
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := call()
		done <- result{n, err}
	}()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case r := <-done:
		if r.err != nil {
			return r.n, p.classify(op, r.err)
		}
		return r.n, nil
	case <-timer.C:
		p.stuck.Store(true)
		return 0, newErrf(op, p.target.String(), ErrTimeout, "the printer took no data for %s", limit)
	}
}

// readSlice bounds each wait of the serial library so that ctx is noticed.
const readSlice = 50 * time.Millisecond

// ReadContext waits for at least one byte from the device.
func (p *SerialPort) ReadContext(ctx context.Context, b []byte) (int, error) {
	if n, ok := p.ahead.take(b); ok {
		return n, nil
	}
	p.readMu.Lock()
	defer p.readMu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return 0, ctxErr(p.target.String(), err)
		}
		wait := readSlice
		if dl, ok := ctx.Deadline(); ok {
			wait = min(wait, max(time.Until(dl), time.Millisecond))
		}
		if err := p.port.SetReadTimeout(wait); err != nil {
			return 0, p.classify("read", err)
		}
		n, err := p.port.Read(b)
		if err != nil {
			return n, p.classify("read", err)
		}
		if n > 0 {
			return n, nil
		}
	}
}

// Check reads for a millisecond: an unplugged adapter or a closed
// pseudo-terminal fails the read. Bytes that arrive are kept for ReadContext.
func (p *SerialPort) Check() error {
	if !p.readMu.TryLock() {
		return nil
	}
	defer p.readMu.Unlock()
	if err := p.port.SetReadTimeout(time.Millisecond); err != nil {
		return p.classify("check", err)
	}
	var buf [256]byte
	n, err := p.port.Read(buf[:])
	p.ahead.put(buf[:n])
	if err != nil {
		return p.classify("check", err)
	}
	return nil
}

// ModemStatus returns the modem input lines (CTS, DSR, RI, DCD). On a line
// without them it returns an error wrapping [ErrUnsupported]; the port
// stays usable.
func (p *SerialPort) ModemStatus() (serial.ModemStatusBits, error) {
	bits, err := p.port.GetModemStatusBits()
	if err != nil {
		if modemUnsupported(err) {
			return serial.ModemStatusBits{}, newErrf("modem status", p.target.String(), ErrUnsupported, "this line has no modem control lines")
		}
		return serial.ModemStatusBits{}, p.classify("modem status", err)
	}
	return *bits, nil
}

// Close releases the line.
func (p *SerialPort) Close() error {
	if !p.closed.CompareAndSwap(false, true) {
		return nil
	}
	if err := p.port.Close(); err != nil {
		return newErr("close", p.target.String(), ErrDisconnected, err)
	}
	return nil
}

func (p *SerialPort) classify(op string, err error) error {
	if p.closed.Load() {
		return newErr(op, p.target.String(), ErrClosed, nil)
	}
	return newErrf(op, p.target.String(), ErrDisconnected, "serial line lost: %v", err)
}

// Flush waits until the line has sent every written byte, bounded by the
// write timeout.
func (p *SerialPort) Flush() error {
	_, err := p.bounded("flush", p.lineTime(0), func() (int, error) { return 0, p.port.Drain() })
	return err
}
