package peakday

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func goldenLabel(b *testing.B) []byte {
	data, err := os.ReadFile(filepath.Join("..", "drivers", "label", "testdata", "waybill_76x130_203.tspl"))
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// BenchmarkPrinterParse is the simulated printer's cost per label: parsing the
// stream, recording the waybill number.
func BenchmarkPrinterParse(b *testing.B) {
	label := goldenLabel(b)
	p := &Printer{ID: "b"}
	b.SetBytes(int64(len(label)))
	b.ReportAllocs()
	for b.Loop() {
		var t tsplParser
		t.feed(label, p)
		p.labels = p.labels[:0]
	}
}

// BenchmarkBaselineSplitLines is the bare operation underneath: splitting the
// same bytes into CR LF lines with bufio.Scanner.
func BenchmarkBaselineSplitLines(b *testing.B) {
	label := goldenLabel(b)
	b.SetBytes(int64(len(label)))
	b.ReportAllocs()
	for b.Loop() {
		sc := bufio.NewScanner(bytes.NewReader(label))
		for sc.Scan() {
		}
	}
}
