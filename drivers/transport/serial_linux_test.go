package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/url"
	"testing"
	"time"
)

func openSerial(t *testing.T, path string, query string) *SerialPort {
	t.Helper()
	u := (&url.URL{Scheme: "serial", Path: path, RawQuery: query}).String()
	p, err := Open(t.Context(), u)
	if err != nil {
		t.Fatalf("Open(%s): %v", u, err)
	}
	t.Cleanup(func() { p.Close() })
	sp, ok := p.(*SerialPort)
	if !ok {
		t.Fatalf("Open(%s) returned %T, want *SerialPort", u, p)
	}
	return sp
}

func TestSerialWriteAndStatusReply(t *testing.T) {
	ctl, path := openPTY(t)
	// Open the follower (raw mode) before the fake device says anything.
	p := openSerial(t, path, "baud=115200&bits=8&parity=none&stop=1&flow=none")
	if got := p.Info(); got.Kind != "serial" || got.Address != path {
		t.Errorf("Info() = %+v", got)
	}

	job := []byte("SIZE 76 mm, 130 mm\r\nCLS\r\n\x00\x01\xff\x10\x04\x01PRINT 1\r\n")
	if _, err := p.Write(job); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(job))
	if _, err := io.ReadFull(ctl, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, job) {
		t.Errorf("device got %q, want %q (raw 8-bit, no translation)", got, job)
	}

	// The device answers a status query.
	if _, err := ctl.Write([]byte{0x12}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	buf := make([]byte, 8)
	n, err := p.ReadContext(ctx, buf)
	if err != nil || n != 1 || buf[0] != 0x12 {
		t.Fatalf("ReadContext = %d, %q, %v; want the reply 0x12", n, buf[:n], err)
	}
}

func TestSerialReadTimesOutWithContext(t *testing.T) {
	_, path := openPTY(t)
	p := openSerial(t, path, "")
	ctx, cancel := context.WithTimeout(t.Context(), 80*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := p.ReadContext(ctx, make([]byte, 4))
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadContext on a silent device = %v, want ErrTimeout and DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("ReadContext returned after %s, want about 80ms", d)
	}

	// Cancellation wakes a reader without a deadline.
	ctx, cancel = context.WithCancel(t.Context())
	go func() { time.Sleep(30 * time.Millisecond); cancel() }()
	if _, err := p.ReadContext(ctx, make([]byte, 4)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ReadContext = %v, want context.Canceled", err)
	}
}

func TestSerialModemLinesUnsupportedIsNotFatal(t *testing.T) {
	_, path := openPTY(t)
	// A pty has no modem lines: asking for DTR/RTS must still open.
	p := openSerial(t, path, "dtr=on&rts=off")
	_, err := p.ModemStatus()
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("ModemStatus on a pty = %v, want ErrUnsupported", err)
	}
	if _, err := p.Write([]byte("still works")); err != nil {
		t.Fatalf("Write after an unsupported modem call: %v", err)
	}
}

func TestSerialUnplug(t *testing.T) {
	ctl, path := openPTY(t)
	p := openSerial(t, path, "")
	if err := p.Check(); err != nil {
		t.Fatalf("Check with the device present = %v", err)
	}
	ctl.Close() // unplug

	if err := p.Check(); !errors.Is(err, ErrDisconnected) {
		t.Errorf("Check after unplug = %v, want ErrDisconnected", err)
	}
	_, err := p.Write([]byte("SIZE 76 mm, 130 mm\r\n"))
	if !errors.Is(err, ErrDisconnected) || !Retryable(err) {
		t.Errorf("Write after unplug = %v, want a retryable ErrDisconnected", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close after unplug = %v", err)
	}
	if _, err := p.Write([]byte("x")); err == nil {
		t.Error("Write after Close succeeded")
	}

	// The node is gone: opening it again says not found.
	if _, err := Open(t.Context(), "serial://"+path); !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrOffline) {
		t.Errorf("Open of an unplugged pty = %v, want ErrNotFound or ErrOffline", err)
	}
}

func TestSerialCheckKeepsReplies(t *testing.T) {
	ctl, path := openPTY(t)
	p := openSerial(t, path, "")
	if _, err := ctl.Write([]byte("AB")); err != nil {
		t.Fatal(err)
	}
	// Let the bytes cross the pty, then check: they must not be lost.
	deadline := time.Now().Add(2 * time.Second)
	for p.ahead.size() < 2 && time.Now().Before(deadline) {
		if err := p.Check(); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	buf := make([]byte, 8)
	n, err := p.ReadContext(ctx, buf)
	if err != nil || string(buf[:n]) != "AB" {
		t.Fatalf("ReadContext after Check = %q, %v; want AB", buf[:n], err)
	}
}

// A device that stops taking data (a USB serial printer out of paper) makes
// the write fail with a timeout instead of hanging the job forever.
func TestSerialWriteTimeout(t *testing.T) {
	ctl, path := openPTY(t)
	p := openSerial(t, path, "baud=10000000&write_timeout=100ms")
	// Nobody reads the controller: the pty's buffer fills and the write blocks.
	_, err := p.Write(make([]byte, 256<<10)) // well over the pty buffer (about 68 KB)
	if !errors.Is(err, ErrTimeout) || !Retryable(err) {
		t.Fatalf("Write to a device that takes nothing = %v, want ErrTimeout", err)
	}
	if _, err := p.Write([]byte("x")); !errors.Is(err, ErrTimeout) {
		t.Errorf("Write after a stuck write = %v, want ErrTimeout (port must be reopened)", err)
	}
	// Unplugging ends the stuck write.
	ctl.Close()
}

func TestSerialWriteTimeoutAllowsLineTime(t *testing.T) {
	ctl, path := openPTY(t)
	p := openSerial(t, path, "baud=9600&write_timeout=50ms")
	go io.Copy(io.Discard, ctl)
	// 2 KB at 9600 baud is about 2 s on a real line: the limit grows with
	// the job, so a slow line is not mistaken for a stuck printer.
	if got := p.lineTime(2048); got < 2*time.Second {
		t.Errorf("time allowed for 2 KB at 9600 baud = %s, want over 2s", got)
	}
	if _, err := p.Write(make([]byte, 2048)); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
}
