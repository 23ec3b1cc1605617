package transport

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"
)

// waitState waits (in real time) for an event of state st.
func waitState(t *testing.T, events <-chan Event, st State, within time.Duration) Event {
	t.Helper()
	timer := time.NewTimer(within)
	defer timer.Stop()
	for {
		select {
		case e := <-events:
			if e.State == st {
				return e
			}
		case <-timer.C:
			t.Fatalf("no %v event within %s", st, within)
		}
	}
}

func superviseReal(t *testing.T, rawURL string, opt SupervisorOptions) (*Supervisor, <-chan Event) {
	t.Helper()
	events := make(chan Event, 64)
	opt.OnEvent = func(e Event) { events <- e }
	opt.Logger = slog.New(slog.DiscardHandler)
	s, err := NewSupervisor(rawURL, opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return s, events
}

// A TCP printer that is switched off and on again is found again within
// 2 s with the default knobs.
func TestSupervisorTCPPrinterReturns(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	serve := func(ln net.Listener, got chan<- []byte) {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		b := make([]byte, 64)
		n, _ := c.Read(b)
		got <- b[:n]
		c.Close() // switched off
	}
	got := make(chan []byte, 1)
	go serve(ln, got)

	s, events := superviseReal(t, "tcp://"+addr, SupervisorOptions{})
	waitState(t, events, StateConnected, 2*time.Second)
	if err := s.Do(t.Context(), func(p Port) error { _, err := p.Write([]byte("A")); return err }); err != nil {
		t.Fatal(err)
	}
	if b := <-got; string(b) != "A" {
		t.Fatalf("printer got %q", b)
	}
	ln.Close()
	waitState(t, events, StateOffline, 2*time.Second)

	// Let it fail for a while, so that the backoff has grown to its cap.
	time.Sleep(1500 * time.Millisecond)
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("could not listen on %s again: %v", addr, err)
	}
	defer ln2.Close()
	back := time.Now()
	go serve(ln2, got)
	waitState(t, events, StateConnected, 2*time.Second)
	t.Logf("found again %s after the printer came back", time.Since(back).Round(time.Millisecond))
	if err := s.Do(t.Context(), func(p Port) error { _, err := p.Write([]byte("B")); return err }); err != nil {
		t.Fatal(err)
	}
	if b := <-got; string(b) != "B" {
		t.Fatalf("printer got %q after it returned", b)
	}
}

// A serial printer whose stable name (a by-id symlink, as udev makes)
// points at a new device after a re-plug is found again within 2 s.
func TestSupervisorSerialReplug(t *testing.T) {
	link := t.TempDir() + "/usb-Xprinter_XP-470B-if00"
	ctl, pts := openPTY(t)
	must(t, symlinkAtomic(pts, link))

	s, events := superviseReal(t, "serial://"+link+"?baud=9600", SupervisorOptions{})
	waitState(t, events, StateConnected, 2*time.Second)
	if err := s.Do(t.Context(), func(p Port) error { _, err := p.Write([]byte("one")); return err }); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 3)
	if _, err := io.ReadFull(ctl, b); err != nil || string(b) != "one" {
		t.Fatalf("device got %q, %v", b, err)
	}

	ctl.Close() // unplug
	off := waitState(t, events, StateOffline, 2*time.Second)
	t.Logf("offline: %v", off.Err)

	ctl2, pts2 := openPTY(t) // plugged in again, maybe as another pts
	must(t, symlinkAtomic(pts2, link))
	back := time.Now()
	waitState(t, events, StateConnected, 2*time.Second)
	t.Logf("found again %s after the re-plug", time.Since(back).Round(time.Millisecond))
	if err := s.Do(t.Context(), func(p Port) error { _, err := p.Write([]byte("two")); return err }); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(ctl2, b); err != nil || string(b) != "two" {
		t.Fatalf("device got %q, %v after re-plug", b, err)
	}
}
