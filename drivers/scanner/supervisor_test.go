package scanner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"
)

type stateEvent struct {
	st  State
	err error
	at  time.Time
}

// TestSupervisorReplugPty unplugs a serial scanner (closes the pty
// controller, removes its by-id style symlink) and plugs a new one in; the
// supervisor must find it again within 2 s with the default poll.
func TestSupervisorReplugPty(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "usb-Honeywell_1900-if00")
	plug := func() *ptyPair {
		p := newPty(t)
		if err := os.Symlink(p.name, link); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p1 := plug()
	counts := new(Counters)
	scans := make(chan Scan, 8)
	states := make(chan stateEvent, 8)
	sup := &Supervisor{
		Name:    "bench-1",
		Open:    SerialOpener(SerialTarget{Path: link}, SerialConfig{Terminator: TermCR, Poll: 20 * time.Millisecond, Options: Options{Source: "bench-1", Logger: quietLogger, Counters: counts}}, ChanSink(scans)),
		OnState: func(_ string, st State, err error) { states <- stateEvent{st, err, time.Now()} },
		Logger:  quietLogger,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}()
	nextState := func(want State) stateEvent {
		t.Helper()
		select {
		case e := <-states:
			if e.st != want {
				t.Fatalf("state %s (%v), want %s", e.st, e.err, want)
			}
			return e
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s state", want)
		}
		return stateEvent{}
	}
	nextScan := func(want string) {
		t.Helper()
		select {
		case s := <-scans:
			if s.Code != want {
				t.Fatalf("scan %q, want %q", s.Code, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no scan %q", want)
		}
	}
	nextState(StateConnected)
	p1.write(t, "BEFORE\r")
	nextScan("BEFORE")

	p1.ctrl.Close()
	os.Remove(link)
	e := nextState(StateDisconnected)
	if !errors.Is(e.err, ErrDisconnected) {
		t.Errorf("disconnect reason %v, want ErrDisconnected", e.err)
	}
	p2 := plug()
	plugged := time.Now()
	c := nextState(StateConnected)
	if d := c.at.Sub(plugged); d > 2*time.Second {
		t.Errorf("found again after %v, want within 2 s", d)
	}
	p2.write(t, "AFTER\r")
	nextScan("AFTER")
	if n := counts.Snapshot().Delivered; n != 2 {
		t.Errorf("delivered across the re-plug = %d, want 2", n)
	}
}

// TestSupervisorPolling checks the poll rhythm and state reports with a
// fake clock: the scanner is missing for 1.2 s, runs, disappears, and is
// found again at once.
func TestSupervisorPolling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var opens []time.Duration
		var pw *io.PipeWriter
		connected := make(chan struct{}, 4)
		open := func(ctx context.Context) (Session, error) {
			opens = append(opens, time.Since(start))
			if time.Since(start) < 1200*time.Millisecond {
				return nil, fmt.Errorf("open: %w", ErrNotFound)
			}
			pr, w := io.Pipe()
			pw = w
			r, err := NewSerialReader(pr, SerialConfig{Options: Options{Logger: quietLogger}}, func(context.Context, Scan) {})
			if err != nil {
				return nil, err
			}
			return readerSession{run: r.Run, close: pr}, nil
		}
		var events []string
		sup := &Supervisor{Name: "s", Open: open, Logger: quietLogger,
			OnState: func(_ string, st State, err error) {
				events = append(events, fmt.Sprintf("%v %s", time.Since(start), st))
				if st == StateConnected {
					connected <- struct{}{}
				}
			}}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- sup.Run(ctx) }()
		<-connected
		time.Sleep(3 * time.Second)
		pw.CloseWithError(errors.New("unplugged"))
		<-connected
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run = %v", err)
		}
		wantOpens := fmt.Sprint([]time.Duration{0, 500 * time.Millisecond, time.Second, 1500 * time.Millisecond, 4500 * time.Millisecond})
		if fmt.Sprint(opens) != wantOpens {
			t.Errorf("open attempts at %v, want %v", opens, wantOpens)
		}
		wantEvents := fmt.Sprint([]string{"0s disconnected", "1.5s connected", "4.5s disconnected", "4.5s connected"})
		if fmt.Sprint(events) != wantEvents {
			t.Errorf("events %v, want %v", events, wantEvents)
		}
	})
}

func TestSupervisorUnsupportedStops(t *testing.T) {
	sup := &Supervisor{Name: "hid", Logger: quietLogger, Open: func(context.Context) (Session, error) { return nil, ErrNoUSBHID }}
	err := sup.Run(context.Background())
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("Run = %v, want ErrUnsupported", err)
	}
}

func TestOpenersReportNotFound(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nothing")
	sink := func(context.Context, Scan) {}
	for name, open := range map[string]OpenFunc{
		"serial":       SerialOpener(SerialTarget{Path: missing}, SerialConfig{}, sink),
		"evdev path":   EvdevOpener(DeviceTarget{Path: missing}, LayoutUS, Options{}, sink),
		"evdev vidpid": EvdevOpener(DeviceTarget{Match: Match{VID: 1, PID: 2}, Sysfs: t.TempDir()}, LayoutUS, Options{}, sink),
		"hidraw":       HidrawOpener(DeviceTarget{Match: Match{VID: 1, PID: 2}, Sysfs: t.TempDir()}, func() ReportDecoder { return NewKeyboardDecoder(nil) }, Options{}, sink),
	} {
		if _, err := open(context.Background()); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
}

// TestUSBHIDHere checks that USB HID either works or says clearly why not:
// this machine may have no USB at all, which must not be fatal.
func TestUSBHIDHere(t *testing.T) {
	list, err := ListUSBHID()
	if !USBHIDSupported() {
		if !errors.Is(err, ErrNoUSBHID) {
			t.Fatalf("ListUSBHID without support = %v, want ErrNoUSBHID", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("ListUSBHID: %v", err)
	}
	t.Logf("%d USB HID interfaces", len(list))
	_, _, err = OpenUSBHID(Match{VID: 0xFFFF, PID: 0xFFFE})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("OpenUSBHID(absent) = %v, want ErrNotFound", err)
	}
	all, err := ListDevices(DefaultSysfs)
	t.Logf("devices: %v (partial errors: %v)", all, err)
}
