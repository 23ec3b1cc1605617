package transport

import (
	"errors"
	"fmt"
)

// The error vocabulary. Every error returned by this package wraps one of
// these (test with errors.Is) together with the operation's name and the
// underlying system error. Their texts are meant to be read on the floor.
var (
	// ErrOffline: the device cannot be reached right now (not plugged in,
	// switched off, network down). Retryable.
	ErrOffline = errors.New("printer offline")
	// ErrDisconnected: an open connection to the device was lost (cable
	// pulled, printer switched off, connection closed by the printer). A job
	// in progress must be sent again. Retryable.
	ErrDisconnected = errors.New("printer connection lost")
	// ErrBusy: another program holds the device. Retryable.
	ErrBusy = errors.New("printer is in use by another program")
	// ErrTimeout: the device did not take or give data in time (paused,
	// paper out, lid open, flow control stuck). Retryable.
	ErrTimeout = errors.New("printer did not respond in time")
	// ErrNotFound: no device matches the address (no such node, no USB
	// printer with that vendor/product/serial). Retryable: it may be plugged in later.
	ErrNotFound = errors.New("printer not found")
	// ErrAmbiguous: an identity address (USB vendor/product) matches several
	// plugged-in printers. Retryable: it resolves when one is unplugged, or
	// when the address gets a serial number or port.
	ErrAmbiguous = errors.New("several printers match this address; add serial= or port= to it")
	// ErrPermission: the operating system refuses access to the device.
	ErrPermission = errors.New("no permission to use the printer (check the device group or udev rule)")
	// ErrBadAddress: the printer address (URL) is malformed. A configuration error.
	ErrBadAddress = errors.New("printer address is not valid")
	// ErrUnsupported: the transport or operation does not exist on this
	// system or this device. A configuration error when returned by Open.
	ErrUnsupported = errors.New("not supported on this system or device")
	// ErrOneWay: the printer has no back channel; status cannot be read.
	ErrOneWay = fmt.Errorf("printer has no back channel (one-way): %w", ErrUnsupported)
	// ErrClosed: the port was closed by this program.
	ErrClosed = errors.New("printer connection is closed")
)

// Retryable reports whether err means the device may come back by itself
// (offline, unplugged, busy, slow), as opposed to a configuration mistake
// that no amount of retrying fixes.
func Retryable(err error) bool {
	for _, e := range []error{ErrOffline, ErrDisconnected, ErrBusy, ErrTimeout, ErrNotFound, ErrAmbiguous, ErrPermission} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// lost reports whether err means the open port is dead and must be reopened.
func lost(err error) bool {
	return errors.Is(err, ErrDisconnected) || errors.Is(err, ErrOffline) || errors.Is(err, ErrNotFound)
}

// opError wraps cause under a sentinel with the operation's name:
// "transport: write tcp://10.0.0.5:9100: printer disconnected during the job: broken pipe".
type opError struct {
	Op       string // "open", "write", "read", "close", "status"
	Addr     string
	Sentinel error
	Err      error // underlying cause, may be nil
	Detail   string
}

func (e *opError) Error() string {
	s := "transport: " + e.Op
	if e.Addr != "" {
		s += " " + e.Addr
	}
	s += ": " + e.Sentinel.Error()
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *opError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Sentinel}
	}
	return []error{e.Sentinel, e.Err}
}

func newErr(op, addr string, sentinel, cause error) error {
	return &opError{Op: op, Addr: addr, Sentinel: sentinel, Err: cause}
}

func newErrf(op, addr string, sentinel error, format string, args ...any) error {
	return &opError{Op: op, Addr: addr, Sentinel: sentinel, Detail: fmt.Sprintf(format, args...)}
}
