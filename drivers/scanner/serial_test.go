package scanner

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// quietLogger drops log output so tests stay readable.
var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeClock is a settable clock for the Options.Now knob.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type runningReader struct {
	scans  chan Scan
	done   chan error
	cancel context.CancelFunc
	sr     *SerialReader
}

func startSerial(t *testing.T, r io.Reader, cfg SerialConfig) *runningReader {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quietLogger
	}
	if cfg.Poll == 0 {
		cfg.Poll = 20 * time.Millisecond
	}
	rr := &runningReader{scans: make(chan Scan, 64), done: make(chan error, 1)}
	sr, err := NewSerialReader(r, cfg, ChanSink(rr.scans))
	if err != nil {
		t.Fatal(err)
	}
	rr.sr = sr
	ctx, cancel := context.WithCancel(context.Background())
	rr.cancel = cancel
	go func() { rr.done <- sr.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-rr.done:
		case <-time.After(5 * time.Second):
			t.Error("reader did not stop after cancel")
		}
	})
	return rr
}

func (rr *runningReader) next(t *testing.T) Scan {
	t.Helper()
	select {
	case s := <-rr.scans:
		return s
	case err := <-rr.done:
		t.Fatalf("reader stopped: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("no scan within 5 s")
	}
	return Scan{}
}

// collectUntil gathers scans until one with Code == end arrives.
func (rr *runningReader) collectUntil(t *testing.T, end string) []Scan {
	t.Helper()
	var got []Scan
	for {
		s := rr.next(t)
		if s.Code == end {
			return got
		}
		got = append(got, s)
	}
}

type want struct{ code, sym string }

func checkScans(t *testing.T, got []Scan, want []want, source string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d scans %q, want %d %q", len(got), codes(got), len(want), want)
	}
	for i := range want {
		if got[i].Code != want[i].code || got[i].Symbology != want[i].sym {
			t.Errorf("scan %d = %q %q, want %q %q", i, got[i].Symbology, got[i].Code, want[i].sym, want[i].code)
		}
		if got[i].Source != source {
			t.Errorf("scan %d source %q, want %q", i, got[i].Source, source)
		}
		if got[i].At.IsZero() {
			t.Errorf("scan %d has no time", i)
		}
	}
}

func codes(s []Scan) []string {
	var out []string
	for _, x := range s {
		out = append(out, x.Symbology+x.Code)
	}
	return out
}

func TestSerialFramingOverPty(t *testing.T) {
	gs1 := "]C10104012345678901\x1d10LOT7"
	tests := []struct {
		name  string
		cfg   SerialConfig
		input string
		end   string // sentinel frame written after input
		want  []want
		stats Stats // checked for the non-zero counters
	}{
		{
			name:  "cr",
			cfg:   SerialConfig{Terminator: TermCR},
			input: "]E05901234123457\rSF1234567890123\r",
			end:   "END\r",
			want:  []want{{"5901234123457", "]E0"}, {"SF1234567890123", ""}},
		},
		{
			name:  "lf",
			cfg:   SerialConfig{Terminator: TermLF},
			input: "]Q3https://t.cn/x?a=1\nYT7788\n",
			end:   "END\n",
			want:  []want{{"https://t.cn/x?a=1", "]Q3"}, {"YT7788", ""}},
		},
		{
			name:  "crlf",
			cfg:   SerialConfig{Terminator: TermCRLF},
			input: "A-03-2-07\r\nB1\n" + gs1 + "\r\n",
			end:   "END\r\n",
			want:  []want{{"A-03-2-07", ""}, {"B1", ""}, {"0104012345678901\x1d10LOT7", "]C1"}},
		},
		{
			name:  "tab",
			cfg:   SerialConfig{Terminator: TermTab},
			input: "]d2010401234567890117261231\tX\t",
			end:   "END\t",
			want:  []want{{"010401234567890117261231", "]d2"}, {"X", ""}},
		},
		{
			name:  "cr reader tolerates crlf scanner",
			cfg:   SerialConfig{Terminator: TermCR},
			input: "AAA\r\nBBB\r\n",
			end:   "END\r",
			want:  []want{{"AAA", ""}, {"BBB", ""}},
		},
		{
			name:  "utf8 qr content kept",
			cfg:   SerialConfig{Terminator: TermCR},
			input: "]Q1赠品:围兜1件\r",
			end:   "END\r",
			want:  []want{{"赠品:围兜1件", "]Q1"}},
		},
		{
			name:  "prefix and suffix stripped",
			cfg:   SerialConfig{Terminator: TermCR, Options: Options{Prefix: []byte{0x02}, Suffix: []byte{0x03}}},
			input: "\x02" + gs1 + "\x03\r\x02PLAIN\x03\rNOPREFIX\r",
			end:   "\x02END\x03\r",
			want:  []want{{"0104012345678901\x1d10LOT7", "]C1"}, {"PLAIN", ""}, {"NOPREFIX", ""}},
		},
		{
			name:  "noise rejected",
			cfg:   SerialConfig{Terminator: TermCR},
			input: "\x00\x00\xff\rGOOD1\rBA\x07D\r\x7f\rGOOD2\r",
			end:   "END\r",
			want:  []want{{"GOOD1", ""}, {"GOOD2", ""}},
			stats: Stats{Noise: 3},
		},
		{
			name:  "over-long rejected",
			cfg:   SerialConfig{Terminator: TermCR, Options: Options{MaxLen: 8}},
			input: "12345678\r" + string(bytes.Repeat([]byte("9"), 3000)) + "\r123456789\rOK\r",
			end:   "END\r",
			want:  []want{{"12345678", ""}, {"OK", ""}},
			stats: Stats{TooLong: 2},
		},
		{
			name:  "empty lines ignored",
			cfg:   SerialConfig{Terminator: TermLF},
			input: "\n\n\r\nX\n",
			end:   "END\n",
			want:  []want{{"X", ""}},
		},
		{
			name:  "duplicates suppressed",
			cfg:   SerialConfig{Terminator: TermCR, Options: Options{DedupWindow: time.Hour}},
			input: "]E05901234123457\r]E05901234123457\rOTHER\r]E05901234123457\r",
			end:   "END\r",
			// The third 5901234123457 differs from the last delivered scan
			// (OTHER), so it counts again.
			want:  []want{{"5901234123457", "]E0"}, {"OTHER", ""}, {"5901234123457", "]E0"}},
			stats: Stats{Duplicates: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPty(t)
			port := p.openPort(t)
			tt.cfg.Source = "bench-3"
			rr := startSerial(t, port, tt.cfg)
			p.write(t, tt.input+tt.end)
			got := rr.collectUntil(t, "END")
			checkScans(t, got, tt.want, "bench-3")
			st := rr.sr.Stats()
			st.Delivered = 0
			if st != tt.stats {
				t.Errorf("stats %+v, want %+v", st, tt.stats)
			}
		})
	}
}

func TestSerialRawKeepsWholeFrame(t *testing.T) {
	p := newPty(t)
	rr := startSerial(t, p.openPort(t), SerialConfig{Terminator: TermCRLF, Options: Options{Prefix: []byte("#")}})
	p.write(t, "#]E0123\r\n")
	s := rr.next(t)
	if string(s.Raw) != "#]E0123" {
		t.Errorf("Raw = %q, want %q", s.Raw, "#]E0123")
	}
}

func TestSerialIdleGapFraming(t *testing.T) {
	p := newPty(t)
	rr := startSerial(t, p.openPort(t), SerialConfig{Terminator: TermNone, IdleGap: 150 * time.Millisecond})
	// Each code is written in pieces; the reader must join them until the
	// line goes quiet.
	for _, code := range []string{"]E05901234123457", "YT1234567890", "]C1010401234567890\x1d21X"} {
		half := len(code) / 2
		p.write(t, code[:half])
		p.write(t, code[half:])
		s := rr.next(t)
		w, _ := SplitAIM([]byte(code))
		if s.Symbology+s.Code != code || s.Symbology != w {
			t.Errorf("got %q%q, want %q", s.Symbology, s.Code, code)
		}
	}
}

func TestSerialDedupWindowExpires(t *testing.T) {
	p := newPty(t)
	clk := newFakeClock()
	rr := startSerial(t, p.openPort(t), SerialConfig{Terminator: TermCR, Options: Options{DedupWindow: 500 * time.Millisecond, Now: clk.Now}})
	p.write(t, "A\r")
	rr.next(t)
	clk.Add(499 * time.Millisecond)
	p.write(t, "A\rSYNC1\r") // still inside the window: dropped
	if s := rr.next(t); s.Code != "SYNC1" {
		t.Fatalf("got %q, want the duplicate dropped", s.Code)
	}
	p.write(t, "SYNC2\r")
	rr.next(t)
	clk.Add(time.Second)
	p.write(t, "SYNC2\r") // window over: counted again
	if s := rr.next(t); s.Code != "SYNC2" {
		t.Fatalf("got %q, want SYNC2 again after the window", s.Code)
	}
	if d := rr.sr.Stats().Duplicates; d != 1 {
		t.Errorf("duplicates = %d, want 1", d)
	}
}

func TestSerialStalePartialDropped(t *testing.T) {
	p := newPty(t)
	rr := startSerial(t, p.openPort(t), SerialConfig{Terminator: TermCR, Poll: 5 * time.Millisecond, StaleAfter: 20 * time.Millisecond})
	p.write(t, "HALF-A-CO")
	deadline := time.Now().Add(5 * time.Second)
	for rr.sr.Stats().Incomplete == 0 {
		if time.Now().After(deadline) {
			t.Fatal("partial frame never dropped")
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.write(t, "NEXT\r")
	if s := rr.next(t); s.Code != "NEXT" {
		t.Errorf("got %q, want NEXT (the stale partial must not be glued on)", s.Code)
	}
}

func TestSerialDisappears(t *testing.T) {
	p := newPty(t)
	rr := startSerial(t, p.openPort(t), SerialConfig{Terminator: TermCR})
	p.write(t, "ONE\r")
	rr.next(t)
	p.ctrl.Close() // unplug
	select {
	case err := <-rr.done:
		if !errors.Is(err, ErrDisconnected) {
			t.Fatalf("Run returned %v, want ErrDisconnected", err)
		}
		rr.done <- err // for cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not notice the unplug")
	}
}

func TestSerialCancel(t *testing.T) {
	p := newPty(t)
	rr := startSerial(t, p.openPort(t), SerialConfig{Terminator: TermCR, Poll: 10 * time.Millisecond})
	rr.cancel()
	select {
	case err := <-rr.done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run returned %v, want context.Canceled", err)
		}
		rr.done <- err
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop on cancel")
	}
}

func TestSerialPlainReader(t *testing.T) {
	// A plain io.Reader (no read timeout) works with terminators; the end
	// of the stream is a disconnect and a partial frame is counted.
	var got []Scan
	sr, err := NewSerialReader(bytes.NewReader([]byte("A\rB\rPART")), SerialConfig{Options: Options{Logger: quietLogger}},
		func(_ context.Context, s Scan) { got = append(got, s) })
	if err != nil {
		t.Fatal(err)
	}
	err = sr.Run(context.Background())
	if !errors.Is(err, ErrDisconnected) || !errors.Is(err, io.EOF) {
		t.Fatalf("Run = %v, want ErrDisconnected wrapping EOF", err)
	}
	checkScans(t, got, []want{{"A", ""}, {"B", ""}}, "")
	if sr.Stats().Incomplete != 1 {
		t.Errorf("incomplete = %d, want 1", sr.Stats().Incomplete)
	}
	if _, err := NewSerialReader(bytes.NewReader(nil), SerialConfig{Terminator: TermNone}, func(context.Context, Scan) {}); err == nil {
		t.Error("silence framing over a reader without timeout was accepted")
	}
}

func TestParseTerminator(t *testing.T) {
	for _, n := range []string{"cr", "LF", " crlf ", "tab", "none"} {
		if _, err := ParseTerminator(n); err != nil {
			t.Errorf("ParseTerminator(%q): %v", n, err)
		}
	}
	if _, err := ParseTerminator("enter"); err == nil {
		t.Error("ParseTerminator(enter) accepted")
	}
}

func TestSplitAIM(t *testing.T) {
	tests := []struct{ in, sym, rest string }{
		{"]C1010", "]C1", "010"},
		{"]E0590", "]E0", "590"},
		{"]Q3x", "]Q3", "x"},
		{"]d2", "]d2", ""},
		{"]e0", "]e0", ""},
		{"]J1abc", "", "]J1abc"}, // J is not an AIM symbology
		{"]C", "", "]C"},
		{"]C!x", "", "]C!x"},
		{"C1]", "", "C1]"},
		{"", "", ""},
	}
	for _, tt := range tests {
		sym, rest := SplitAIM([]byte(tt.in))
		if sym != tt.sym || string(rest) != tt.rest {
			t.Errorf("SplitAIM(%q) = %q %q, want %q %q", tt.in, sym, rest, tt.sym, tt.rest)
		}
	}
}
