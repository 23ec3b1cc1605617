package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// listen starts a loopback listener and runs serve for every connection.
func listen(t testing.TB, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); defer c.Close(); serve(c) }()
		}
	}()
	return ln.Addr().String()
}

// recorder is a printer that keeps every byte it receives.
type recorder struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan struct{}
}

func newRecorder() *recorder { return &recorder{done: make(chan struct{}, 16)} }

func (r *recorder) serve(c net.Conn) {
	b := make([]byte, 4096)
	for {
		n, err := c.Read(b)
		r.mu.Lock()
		r.buf.Write(b[:n])
		r.mu.Unlock()
		if err != nil {
			r.done <- struct{}{}
			return
		}
	}
}

func (r *recorder) bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.buf.Bytes())
}

func openTCP(t *testing.T, addr, query string) Port {
	t.Helper()
	u := "tcp://" + addr
	if query != "" {
		u += "?" + query
	}
	p, err := Open(t.Context(), u)
	if err != nil {
		t.Fatalf("Open(%s): %v", u, err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestTCPRecordsExactBytes(t *testing.T) {
	rec := newRecorder()
	addr := listen(t, rec.serve)
	p := openTCP(t, addr, "")
	if got := p.Info(); got.Kind != "tcp" || got.Address != addr {
		t.Errorf("Info() = %+v, want tcp %s", got, addr)
	}
	job := bytes.Repeat([]byte("BITMAP 0,0,100,200,0,\x00\xff\r\n"), 1000)
	for chunk := range slicesChunk(job, 777) {
		if _, err := p.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-rec.done:
	case <-time.After(5 * time.Second):
		t.Fatal("printer never saw the connection end")
	}
	if got := rec.bytes(); !bytes.Equal(got, job) {
		t.Fatalf("printer got %d bytes, want exactly the %d written", len(got), len(job))
	}
	if _, err := p.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
}

func slicesChunk(b []byte, n int) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for len(b) > 0 {
			k := min(n, len(b))
			if !yield(b[:k]) {
				return
			}
			b = b[k:]
		}
	}
}

func TestTCPStatusQuery(t *testing.T) {
	// A TSPL printer: <ESC>!? is answered with one raw status byte.
	addr := listen(t, func(c net.Conn) {
		q := make([]byte, 3)
		if _, err := io.ReadFull(c, q); err != nil || string(q) != "\x1b!?" {
			return
		}
		c.Write([]byte{0x04}) // paper out
		io.Copy(io.Discard, c)
	})
	p := openTCP(t, addr, "")
	if _, err := p.Write([]byte("\x1b!?")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	b := make([]byte, 4)
	n, err := p.ReadContext(ctx, b)
	if err != nil || n != 1 || b[0] != 0x04 {
		t.Fatalf("ReadContext = %d %q %v, want the reply 0x04", n, b[:n], err)
	}

	// No second reply: the read ends with the context, as a timeout.
	ctx, cancel = context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := p.ReadContext(ctx, b); !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadContext with no reply = %v, want ErrTimeout wrapping DeadlineExceeded", err)
	}
	// A timed-out read leaves the connection usable.
	if _, err := p.Write([]byte("CLS\r\n")); err != nil {
		t.Fatalf("Write after a read timeout: %v", err)
	}
}

func TestTCPPrinterClosesMidJob(t *testing.T) {
	// The printer reads a little, then drops the connection with unread data
	// (the kernel answers with a reset).
	addr := listen(t, func(c net.Conn) {
		io.ReadFull(c, make([]byte, 1024))
		c.(*net.TCPConn).SetLinger(0)
	})
	p := openTCP(t, addr, "write_timeout=10s")
	job := bytes.Repeat([]byte{0xAA}, 64<<20)
	var err error
	for chunk := range slicesChunk(job, 1<<20) {
		if _, err = p.Write(chunk); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrDisconnected) || !Retryable(err) {
		t.Fatalf("Write to a printer that hung up = %v, want a retryable ErrDisconnected", err)
	}
	if !strings.Contains(err.Error(), "closed the connection") {
		t.Errorf("error %q does not say the printer closed the connection", err)
	}
}

func TestTCPCheckSeesClosedConnection(t *testing.T) {
	hangup := make(chan struct{})
	addr := listen(t, func(c net.Conn) {
		c.Write([]byte{0x12}) // an unasked status byte
		<-hangup
	})
	p := openTCP(t, addr, "")
	chk := p.(Checker)
	if err := chk.Check(); err != nil {
		t.Fatalf("Check on a live connection = %v", err)
	}
	close(hangup)
	var err error
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		if err = chk.Check(); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrDisconnected) {
		t.Fatalf("Check after the printer hung up = %v, want ErrDisconnected", err)
	}
	// The status byte read by Check is still there for the caller.
	b := make([]byte, 4)
	if n, err := p.ReadContext(t.Context(), b); err != nil || n != 1 || b[0] != 0x12 {
		t.Errorf("ReadContext after Check = %d %q %v, want the unasked byte 0x12", n, b[:n], err)
	}
}

func TestTCPWriteTimeout(t *testing.T) {
	stall := make(chan struct{})
	addr := listen(t, func(c net.Conn) { <-stall }) // a paused printer: takes nothing
	defer close(stall)
	p := openTCP(t, addr, "write_timeout=100ms")
	_, err := p.Write(make([]byte, 64<<20))
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Write to a stalled printer = %v, want ErrTimeout", err)
	}
}

func TestTCPDialClosedPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = Open(t.Context(), "tcp://"+addr+"?dial_timeout=1s")
	if !errors.Is(err, ErrOffline) || !Retryable(err) {
		t.Fatalf("Open of a closed port = %v, want a retryable ErrOffline", err)
	}
	if !strings.Contains(err.Error(), "printer offline") || !strings.Contains(err.Error(), addr) {
		t.Errorf("error %q should name the address and say the printer is offline", err)
	}
}

func TestTCPOpenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Open(ctx, "tcp://127.0.0.1:9"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Open with a cancelled context = %v, want context.Canceled", err)
	}
}
