package scanner

import (
	"errors"
	"io"
	"sync"
	"time"
)

// errSessionClosed is returned by a detachableReader's Read after Close.
var errSessionClosed = errors.New("device closed by its owner")

// detachableReader wraps a device whose Read cannot be interrupted and whose
// Close must not run while a Read is pending. hidapi is such a device: its
// hid_close frees memory a blocked hid_read still uses. Close returns at once
// and makes Read return; the device itself is closed when no Read is in
// flight, at the latest when the pending one returns.
type detachableReader struct {
	dev     io.ReadCloser
	results chan readResult
	closed  chan struct{}
	once    sync.Once

	mu         sync.Mutex
	inflight   bool
	closeAfter bool
	devClosed  bool
}

type readResult struct {
	b   []byte
	err error
}

func newDetachableReader(dev io.ReadCloser) *detachableReader {
	return &detachableReader{dev: dev, results: make(chan readResult, 1), closed: make(chan struct{})}
}

// Read returns the next report, or an error once Close was called.
func (d *detachableReader) Read(p []byte) (int, error) {
	d.mu.Lock()
	if d.devClosed || d.closeAfter {
		d.mu.Unlock()
		return 0, errSessionClosed
	}
	if !d.inflight {
		d.inflight = true
		go d.readOnce(len(p))
	}
	d.mu.Unlock()
	select {
	case r := <-d.results:
		return copy(p, r.b), r.err
	case <-d.closed:
		return 0, errSessionClosed
	}
}

func (d *detachableReader) readOnce(size int) {
	buf := make([]byte, size)
	n, err := d.dev.Read(buf)
	d.mu.Lock()
	d.inflight = false
	closeNow := d.closeAfter && !d.devClosed
	if closeNow {
		d.devClosed = true
	}
	d.mu.Unlock()
	if closeNow {
		d.dev.Close()
		return
	}
	d.results <- readResult{buf[:n], err}
}

// Close makes pending and future Reads return and closes the device as soon
// as no Read is in flight.
func (d *detachableReader) Close() error {
	var err error
	d.once.Do(func() {
		close(d.closed)
		d.mu.Lock()
		if d.inflight {
			d.closeAfter = true
			d.mu.Unlock()
			return
		}
		d.devClosed = true
		d.mu.Unlock()
		// hidapi's hid_close can hang for good (a known race between its read
		// thread and close in the hidapi that karalabe/usb vendors); never let
		// that hang the scanner's owner.
		done := make(chan error, 1)
		go func() { done <- d.dev.Close() }()
		select {
		case err = <-done:
		case <-time.After(closeWait):
			err = errCloseHung
		}
	})
	return err
}

// closeWait bounds how long Close waits for the device to let go.
var closeWait = 3 * time.Second

var errCloseHung = errors.New("the USB device did not close within 3 s and was left behind; re-plug the scanner if it stays silent")
