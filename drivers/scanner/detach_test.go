package scanner

import (
	"errors"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// guardedPipe is the read end of a real pipe that fails the test if Close
// is called while a Read is in progress (what would crash hidapi).
type guardedPipe struct {
	t       *testing.T
	f       *os.File
	reading atomic.Bool
	closed  chan struct{}
}

func (g *guardedPipe) Read(p []byte) (int, error) {
	g.reading.Store(true)
	defer g.reading.Store(false)
	return g.f.Read(p)
}

func (g *guardedPipe) Close() error {
	if g.reading.Load() {
		g.t.Error("device closed while a read was pending")
	}
	close(g.closed)
	return g.f.Close()
}

func TestDetachableReaderCloseWhileReading(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	g := &guardedPipe{t: t, f: pr, closed: make(chan struct{})}
	d := newDetachableReader(g)

	if _, err := pw.Write([]byte("report-1")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := d.Read(buf)
	if err != nil || string(buf[:n]) != "report-1" {
		t.Fatalf("Read = %q %v", buf[:n], err)
	}

	readErr := make(chan error, 1)
	go func() { _, err := d.Read(buf); readErr <- err }()
	for !g.reading.Load() { // wait until the device read is pending
		time.Sleep(time.Millisecond)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-readErr:
		if !errors.Is(err, errSessionClosed) {
			t.Fatalf("Read after Close = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not release the pending Read")
	}
	select {
	case <-g.closed:
		t.Fatal("device closed while its read was still pending")
	default:
	}
	pw.Write([]byte("late")) // the pending device read returns; now it may close
	select {
	case <-g.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("device never closed after its read returned")
	}
	if _, err := d.Read(buf); !errors.Is(err, errSessionClosed) {
		t.Errorf("Read after close = %v", err)
	}
}

func TestDetachableReaderCloseIdle(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	g := &guardedPipe{t: t, f: pr, closed: make(chan struct{})}
	d := newDetachableReader(g)
	d.Close()
	select {
	case <-g.closed:
	default:
		t.Fatal("idle device not closed at once")
	}
	d.Close() // twice is fine
}
