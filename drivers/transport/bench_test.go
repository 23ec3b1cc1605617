package transport

import (
	"bytes"
	"io"
	"net"
	"testing"
)

// label20K is a 20 KB TSPL job: a header and a bitmap, the size of a
// 76×130 mm waybill with a raster logo.
var label20K = func() []byte {
	b := []byte("SIZE 76 mm, 130 mm\r\nGAP 2 mm, 0 mm\r\nCLS\r\nBITMAP 0,0,76,260,0,")
	b = append(b, bytes.Repeat([]byte{0x00, 0xff, 0x5a, 0xa5}, (20<<10-len(b)-12)/4)...)
	b = append(b, "\r\nPRINT 1\r\n"...)
	return b
}()

func discardListener(b *testing.B) string {
	return listen(b, func(c net.Conn) { io.Copy(io.Discard, c) })
}

// BenchmarkTCPWriteLabel writes a 20 KB label through the tcp transport.
func BenchmarkTCPWriteLabel(b *testing.B) {
	addr := discardListener(b)
	p, err := Open(b.Context(), "tcp://"+addr)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	b.SetBytes(int64(len(label20K)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Write(label20K); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTCPWriteLabelFlushed also waits, after each label, until the
// printer's side has acknowledged every byte (a complete Supervisor.Do job).
func BenchmarkTCPWriteLabelFlushed(b *testing.B) {
	addr := discardListener(b)
	p, err := Open(b.Context(), "tcp://"+addr)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	b.SetBytes(int64(len(label20K)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Write(label20K); err != nil {
			b.Fatal(err)
		}
		if err := p.Flush(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNetConnWriteLabel is the baseline: the same label written on a
// bare net.Conn.
func BenchmarkNetConnWriteLabel(b *testing.B) {
	addr := discardListener(b)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.SetBytes(int64(len(label20K)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(label20K); err != nil {
			b.Fatal(err)
		}
	}
}
