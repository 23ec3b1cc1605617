package transport

import (
	"bytes"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// A job small enough to fit in the socket buffers is "written" before the
// printer has it; only Flush can tell that the printer hung up mid-job.
func TestTCPFlushSeesResetAfterWrite(t *testing.T) {
	// A printer with a small receive buffer, like the real ones: it cannot
	// acknowledge the whole job before it has processed most of it.
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 4096) })
		return serr
	}}
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.ReadFull(c, make([]byte, 1024))
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	}()
	p := openTCP(t, ln.Addr().String(), "write_timeout=5s")
	_, err = p.Write(bytes.Repeat([]byte{0x55}, 200<<10))
	if err == nil {
		err = p.Flush()
	}
	if !errors.Is(err, ErrDisconnected) {
		t.Fatalf("Write+Flush to a printer that hung up after 1 KB = %v, want ErrDisconnected", err)
	}
}

func TestTCPFlushWaitsForTheWholeJob(t *testing.T) {
	rec := newRecorder()
	addr := listen(t, rec.serve)
	p := openTCP(t, addr, "")
	job := bytes.Repeat([]byte("0123456789"), 30000)
	if _, err := p.Write(job); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	// Every byte has been acknowledged by the printer's side of the connection.
	c := p.(*tcpPort).conn.(*net.TCPConn)
	rc, _ := c.SyscallConn()
	var queued int
	rc.Control(func(fd uintptr) { queued, _ = ioctlOutq(fd) })
	if queued != 0 {
		t.Errorf("%d bytes still unacknowledged after Flush", queued)
	}
}
