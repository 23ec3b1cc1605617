package usbvm

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

func consoleLog(b *testing.B) []byte {
	one, err := os.ReadFile("testdata/console-pass.txt")
	if err != nil {
		b.Fatal(err)
	}
	return bytes.Repeat(one, 100)
}

// BenchmarkReportParser parses a guest console log.
func BenchmarkReportParser(b *testing.B) {
	log := consoleLog(b)
	b.SetBytes(int64(len(log)))
	for b.Loop() {
		if _, err := ParseReport(bytes.NewReader(log)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineScanLines only splits the same log into lines.
func BenchmarkBaselineScanLines(b *testing.B) {
	log := consoleLog(b)
	b.SetBytes(int64(len(log)))
	for b.Loop() {
		sc := bufio.NewScanner(bytes.NewReader(log))
		for sc.Scan() {
		}
	}
}

// payload is incompressible-ish data the size of a small guest binary.
func payload(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(r.IntN(16)) // some redundancy, like code
	}
	return p
}

// BenchmarkWriteInitramfs packs an 8 MiB init and two modules, gzip included.
func BenchmarkWriteInitramfs(b *testing.B) {
	dir := b.TempDir()
	k := &Kernel{Dir: dir, Image: "vmlinuz", Modules: []Module{{Name: "a", File: "a.ko"}, {Name: "b", File: "b.ko"}}}
	for _, f := range []string{"a.ko", "b.ko"} {
		if err := os.WriteFile(filepath.Join(dir, f), payload(64<<10), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	init := filepath.Join(dir, "init")
	if err := os.WriteFile(init, payload(8<<20), 0o755); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(8<<20 + 128<<10)
	for b.Loop() {
		if err := WriteInitramfs(io.Discard, k, init); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineGzip compresses the same amount of data at the same level.
func BenchmarkBaselineGzip(b *testing.B) {
	p := payload(8<<20 + 128<<10)
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
		zw.Write(p)
		zw.Close()
	}
}
