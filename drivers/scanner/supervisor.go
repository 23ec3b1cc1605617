package scanner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"time"

	"go.bug.st/serial"
)

// State is a scanner's connection state as reported by a Supervisor.
type State string

// Connection states.
const (
	StateConnected    State = "connected"
	StateDisconnected State = "disconnected"
)

// Session is one opened scanner: Run reads until the scanner disappears or
// ctx ends; Close releases the device and unblocks Run.
type Session interface {
	Run(ctx context.Context) error
	Close() error
}

// OpenFunc opens a scanner once. It returns an error wrapping ErrNotFound
// when the scanner is not plugged in; an error wrapping ErrUnsupported stops
// the supervisor for good.
type OpenFunc func(ctx context.Context) (Session, error)

// DefaultPoll is how often a Supervisor looks for a missing scanner.
const DefaultPoll = 500 * time.Millisecond

// Supervisor keeps one scanner open: it opens it, runs it, and after it
// disappears polls every Poll until it is back.
type Supervisor struct {
	// Name identifies the scanner in logs and state reports.
	Name string
	// Open opens the scanner (see SerialOpener, EvdevOpener,
	// HidrawOpener, USBHIDOpener).
	Open OpenFunc
	// Poll is the interval between attempts to find the scanner.
	// Default DefaultPoll.
	Poll time.Duration
	// OnState is called on every change between connected and
	// disconnected (and once at start when the scanner is missing). err
	// says why it is disconnected. May be nil.
	OnState func(name string, st State, err error)
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Run supervises until ctx ends (returning nil) or the scanner can never
// work on this system (an error wrapping ErrUnsupported).
func (s *Supervisor) Run(ctx context.Context) error {
	if s.Open == nil {
		return errors.New("scanner supervisor: no opener")
	}
	poll := s.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	var state State
	report := func(st State, err error) {
		if st == state {
			return
		}
		state = st
		if st == StateConnected {
			log.Info("scanner connected", "scanner", s.Name)
		} else {
			log.Warn("scanner disconnected", "scanner", s.Name, "err", err)
		}
		if s.OnState != nil {
			s.OnState(s.Name, st, err)
		}
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		sess, err := s.Open(ctx)
		if err != nil {
			if errors.Is(err, ErrUnsupported) {
				report(StateDisconnected, err)
				return fmt.Errorf("scanner %s: %w", s.Name, err)
			}
			if state != StateDisconnected {
				report(StateDisconnected, err)
			} else {
				log.Debug("scanner still missing", "scanner", s.Name, "err", err)
			}
			t.Reset(poll)
			continue
		}
		report(StateConnected, nil)
		err = runSession(ctx, sess)
		if ctx.Err() != nil {
			return nil
		}
		report(StateDisconnected, err)
		t.Reset(0) // look again at once, then every poll
	}
}

// runSession runs sess until it ends or ctx is done, then closes it.
func runSession(ctx context.Context, sess Session) error {
	done := make(chan error, 1)
	go func() { done <- sess.Run(ctx) }()
	select {
	case err := <-done:
		sess.Close()
		return err
	case <-ctx.Done():
		sess.Close() // unblocks a pending read
		return <-done
	}
}

type readerSession struct {
	run   func(context.Context) error
	close io.Closer
}

func (r readerSession) Run(ctx context.Context) error { return r.run(ctx) }
func (r readerSession) Close() error                  { return r.close.Close() }

// SerialTarget says which serial scanner to open: a fixed Path (a udev
// symlink such as /dev/serial/by-id/... survives re-plugging), or, when Path
// is empty, the USB serial port with these ids.
type SerialTarget struct {
	Path  string
	Match Match
	Mode  serial.Mode // zero value: 9600 8N1
}

// SerialOpener opens a serial scanner with go.bug.st/serial and reads it with
// a SerialReader.
func SerialOpener(t SerialTarget, cfg SerialConfig, sink Sink) OpenFunc {
	return func(ctx context.Context) (Session, error) {
		path := t.Path
		if path == "" {
			p, err := FindSerialPort(t.Match)
			if err != nil {
				return nil, err
			}
			path = p
		}
		if runtime.GOOS != "windows" { // COM ports are not files
			if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("open serial scanner %s: %w", path, ErrNotFound)
			}
		}
		mode := t.Mode
		if mode.BaudRate == 0 {
			mode.BaudRate = 9600
		}
		port, err := serial.Open(path, &mode)
		if err != nil {
			var pe *serial.PortError
			if errors.As(err, &pe) && pe.Code() == serial.PortNotFound {
				return nil, fmt.Errorf("open serial scanner %s: %w: %w", path, ErrNotFound, err)
			}
			return nil, fmt.Errorf("open serial scanner %s: %w", path, err)
		}
		r, err := NewSerialReader(port, cfg, sink)
		if err != nil {
			port.Close()
			return nil, err
		}
		return readerSession{run: r.Run, close: port}, nil
	}
}

// DeviceTarget says which Linux device node to open: a fixed Path, or the
// device matching Match found in sysfs under Sysfs (default DefaultSysfs).
type DeviceTarget struct {
	Path  string
	Match Match
	Sysfs string
}

func (t DeviceTarget) resolve(find func(string, Match) (string, error)) (string, error) {
	if t.Path != "" {
		if _, err := os.Stat(t.Path); errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("open %s: %w", t.Path, ErrNotFound)
		}
		return t.Path, nil
	}
	root := t.Sysfs
	if root == "" {
		root = DefaultSysfs
	}
	return find(root, t.Match)
}

// EvdevOpener opens a keyboard scanner's input event node (grabbed
// exclusively) and reads it with the layout l.
func EvdevOpener(t DeviceTarget, l *Layout, opts Options, sink Sink) OpenFunc {
	return func(ctx context.Context) (Session, error) {
		path, err := t.resolve(FindEvdev)
		if err != nil {
			return nil, err
		}
		f, err := OpenEvdev(path)
		if err != nil {
			return nil, err
		}
		r, err := NewEvdevReader(f, l, opts, sink)
		if err != nil {
			f.Close()
			return nil, err
		}
		return readerSession{run: r.Run, close: f}, nil
	}
}

// HidrawOpener opens a /dev/hidrawN node and decodes its reports with a
// decoder made by newDec (one per session).
func HidrawOpener(t DeviceTarget, newDec func() ReportDecoder, opts Options, sink Sink) OpenFunc {
	return func(ctx context.Context) (Session, error) {
		path, err := t.resolve(FindHidraw)
		if err != nil {
			return nil, err
		}
		f, err := OpenHidraw(path)
		if err != nil {
			return nil, err
		}
		r, err := NewHIDReader(f, newDec(), opts, sink)
		if err != nil {
			f.Close()
			return nil, err
		}
		return readerSession{run: r.Run, close: f}, nil
	}
}

// USBHIDOpener opens a HID scanner through hidapi (karalabe/usb) and decodes
// its reports with a decoder made by newDec.
func USBHIDOpener(m Match, newDec func() ReportDecoder, opts Options, sink Sink) OpenFunc {
	return func(ctx context.Context) (Session, error) {
		dev, _, err := OpenUSBHID(m)
		if err != nil {
			return nil, err
		}
		// hidapi's close must not race its blocking read.
		d := newDetachableReader(dev)
		r, err := NewHIDReader(d, newDec(), opts, sink)
		if err != nil {
			d.Close()
			return nil, err
		}
		return readerSession{run: r.Run, close: d}, nil
	}
}
