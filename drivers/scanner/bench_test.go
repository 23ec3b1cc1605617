package scanner

import (
	"bufio"
	"bytes"
	"context"
	"testing"
)

// benchInput is 1000 scans as a serial scanner sends them: AIM id, code, CR.
func benchInput() []byte {
	var b bytes.Buffer
	codes := []string{"]E05901234123457", "]C1SF1234567890123", "]C10104012345678901\x1d10LOT7", "]Q1https://m.example.cn/wb?no=YT7788990011"}
	for i := 0; i < 1000; i++ {
		b.WriteString(codes[i%len(codes)])
		b.WriteByte('\r')
	}
	return b.Bytes()
}

// BenchmarkSerialFrame frames, checks and delivers 1000 scans from bytes
// through a SerialReader (framing, AIM split, noise and length checks,
// dedup, Scan with a copy of the raw bytes).
func BenchmarkSerialFrame(b *testing.B) {
	in := benchInput()
	n := 0
	sink := func(_ context.Context, s Scan) { n++ }
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		sr, err := NewSerialReader(bytes.NewReader(in), SerialConfig{Terminator: TermCR, Options: Options{Logger: quietLogger, DedupWindow: 1}}, sink)
		if err != nil {
			b.Fatal(err)
		}
		_ = sr.Run(context.Background())
	}
	if n == 0 {
		b.Fatal("no scans")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/scan")
}

// BenchmarkBufioScannerBaseline is the bare operation: split the same bytes
// at CR with bufio.Scanner and turn each line into a string.
func BenchmarkBufioScannerBaseline(b *testing.B) {
	in := benchInput()
	n := 0
	splitCR := func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.IndexByte(data, '\r'); i >= 0 {
			return i + 1, data[:i], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	var sink string
	for b.Loop() {
		sc := bufio.NewScanner(bytes.NewReader(in))
		sc.Split(splitCR)
		for sc.Scan() {
			sink = sc.Text()
			n++
		}
	}
	_ = sink
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/scan")
}

// FuzzSerialFraming feeds arbitrary bytes through every framing mode with a
// plain reader: no panic, and every delivered scan obeys the frame rules.
func FuzzSerialFraming(f *testing.F) {
	f.Add(benchInput()[:200], uint8(0), uint8(8))
	f.Add([]byte("\x02]C1010\x1d10X\x03\r\n\x00\xff\rAAA\tBBB\n"), uint8(2), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, term uint8, maxLen uint8) {
		terms := []Terminator{TermCR, TermLF, TermCRLF, TermTab}
		cfg := SerialConfig{Terminator: terms[int(term)%len(terms)], Options: Options{
			Logger: quietLogger, MaxLen: int(maxLen), Prefix: []byte{0x02}, Suffix: []byte{0x03}, DedupWindow: 1,
		}}
		max := int(maxLen)
		if max == 0 {
			max = DefaultMaxLen
		}
		sr, err := NewSerialReader(bytes.NewReader(data), cfg, func(_ context.Context, s Scan) {
			if s.Code == "" || len(s.Code) > max {
				t.Fatalf("bad scan length %d (max %d)", len(s.Code), max)
			}
			if _, _, bad := findNoise([]byte(s.Code)); bad {
				t.Fatalf("noise delivered: %q", s.Code)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		_ = sr.Run(context.Background())
	})
}
