package peakday

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockhand/dockhand/sync/wire"
)

func TestTSPLParser(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join("..", "drivers", "label", "testdata", "waybill_76x130_203.tspl"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		in       []byte
		chunk    int // feed in pieces of this size (0: at once)
		waybills []string
		replies  int
	}{
		{"golden label at once", golden, 0, []string{"78512345678901"}, 0},
		{"golden label byte by byte", golden, 1, []string{"78512345678901"}, 0},
		{"two labels in 7-byte pieces", append(append([]byte{}, golden...), golden...), 7, []string{"78512345678901", "78512345678901"}, 0},
		{"status query between jobs", append(append([]byte("\x1b!?"), golden...), "\x1b!?"...), 3, []string{"78512345678901"}, 2},
		{"ESC/POS status query", []byte("\x10\x04\x01"), 0, nil, 1},
		{"PRINT 2 copies", []byte("SIZE 76 mm, 130 mm\r\nCLS\r\nBARCODE 1,1,\"128\",88,2,0,3,3,\"SF123\"\r\nPRINT 2\r\n"), 0, []string{"SF123", "SF123"}, 0},
		{"label without barcode", []byte("CLS\r\nTEXT 1,1,\"1\",0,1,1,\"hi\"\r\nPRINT 1\r\n"), 0, []string{""}, 0},
		{"bitmap holding CR LF and PRINT bytes", []byte("CLS\r\nBITMAP 0,0,2,4,0,\r\nPRINT 1\r\n\r\nBARCODE 1,1,\"128\",88,2,0,3,3,\"X1\"\r\nPRINT 1\r\n"), 0, []string{"X1"}, 0},
		{"cut off before PRINT", []byte("CLS\r\nBARCODE 1,1,\"128\",88,2,0,3,3,\"X2\"\r\n"), 0, nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			p := &Printer{ID: "p", onLabel: func(l Label) { got = append(got, l.Waybill) }}
			var tp tsplParser
			replies := 0
			in := c.in
			step := c.chunk
			if step == 0 {
				step = len(in)
			}
			for len(in) > 0 {
				n := min(step, len(in))
				replies += len(tp.feed(in[:n], p))
				in = in[n:]
			}
			if strings.Join(got, ",") != strings.Join(c.waybills, ",") {
				t.Errorf("labels %q, want %q", got, c.waybills)
			}
			if replies != c.replies {
				t.Errorf("%d status replies, want %d", replies, c.replies)
			}
		})
	}
}

func TestPrinterFaults(t *testing.T) {
	p, err := StartPrinter("p1", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if got := p.status(); got != 0 {
		t.Fatalf("idle status %#x, want 0", got)
	}
	p.SetPaperOut(true)
	if got := p.status(); got&0x04 == 0 {
		t.Fatalf("paper-out status %#x, want bit 0x04", got)
	}
	if got := p.escposStatus(4); got != 0x72 {
		t.Fatalf("ESC/POS paper sensor %#x, want 0x72", got)
	}
	p.SetPaperOut(false)
	url := p.URL()
	p.Vanish()
	if err := p.Return(); err != nil {
		t.Fatal(err)
	}
	if p.URL() != url {
		t.Fatalf("returned at %s, want %s", p.URL(), url)
	}
}

func TestParseProc(t *testing.T) {
	status := "Name:\tdockhand\nVmPeak:\t  100 kB\nVmRSS:\t   51200 kB\n"
	cases := []struct {
		name, status, stat string
		rss                int64
		ticks              uint64
		bad                bool
	}{
		{"plain", status, "1234 (dockhand) S 1 2 3 4 5 6 7 8 9 10 150 50 0 0", 51200 << 10, 200, false},
		{"name with spaces and parens", status, "1234 (dock (h) and) R 1 2 3 4 5 6 7 8 9 10 7 3 0", 51200 << 10, 10, false},
		{"no rss", "Name: x\n", "1 (x) S 1 2 3 4 5 6 7 8 9 10 1 1", 0, 0, true},
		{"short stat", status, "1 (x) S 1 2", 0, 0, true},
		{"garbage ticks", status, "1 (x) S 1 2 3 4 5 6 7 8 9 10 a b", 0, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := parseProc(c.status, c.stat)
			if (err != nil) != c.bad {
				t.Fatalf("err %v, want bad=%v", err, c.bad)
			}
			if !c.bad && (s.RSSBytes != c.rss || s.CPUTicks != c.ticks) {
				t.Fatalf("got %+v, want rss %d ticks %d", s, c.rss, c.ticks)
			}
		})
	}
	self, err := ReadProc(os.Getpid())
	if err != nil || self.RSSBytes <= 0 {
		t.Fatalf("this process: %+v %v", self, err)
	}
}

func TestPercentiles(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 1000; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	p := percentiles(d)
	if p.N != 1000 || p.P50 != 501*time.Millisecond || p.P99 != 991*time.Millisecond || p.Max != time.Second {
		t.Fatalf("got %+v", p)
	}
	if (percentiles(nil) != Percentiles{}) {
		t.Fatal("empty input must give zero percentiles")
	}
}

func TestItemsWrong(t *testing.T) {
	d := &wire.Order{Lines: []wire.Line{{LineID: "1", SKU: "A", Qty: 2}, {LineID: "2", SKU: "G", Qty: 1, Gift: true}}}
	rec := func(line, sku string) wire.ScanRecord { return wire.ScanRecord{LineID: line, SKU: sku} }
	cases := []struct {
		name  string
		scans []wire.ScanRecord
		bad   bool
	}{
		{"complete", []wire.ScanRecord{rec("1", "A"), rec("1", "A"), rec("2", "G")}, false},
		{"missing gift", []wire.ScanRecord{rec("1", "A"), rec("1", "A")}, true},
		{"one short", []wire.ScanRecord{rec("1", "A"), rec("2", "G")}, true},
		{"one over", []wire.ScanRecord{rec("1", "A"), rec("1", "A"), rec("1", "A"), rec("2", "G")}, true},
		{"wrong sku on a line", []wire.ScanRecord{rec("1", "A"), rec("1", "B"), rec("2", "G")}, true},
		{"a line the order lacks", []wire.ScanRecord{rec("1", "A"), rec("1", "A"), rec("2", "G"), rec("9", "Z")}, true},
	}
	for _, c := range cases {
		if got := itemsWrong(d, c.scans); (got != "") != c.bad {
			t.Errorf("%s: %q, want bad=%v", c.name, got, c.bad)
		}
	}
}

func TestScanLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.log")
	log := `{"msg":"scan","code":"78512345678901"}
{"msg":"order","receiver":"138****5678"}
{"msg":"x","detail":"浙江省杭州市西湖区文三路 90 号"}
`
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	values := map[string]bool{"138****5678": true, "139****0000": true, "浙江省杭州市西湖区文三路 90 号": true, "广东省深圳市南山区": true}
	n, hits, err := scanLog(path, values)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 || len(hits) != 2 || hits[0] != "138****5678" {
		t.Fatalf("lines %d hits %q", n, hits)
	}
}

func TestChartRenders(t *testing.T) {
	c := chart{Title: "t", Series: []series{{Name: "a", X: []float64{0, 1, 2}, Y: []float64{0, 5, 1}}}, Marks: []mark{{X: 1, Label: "fault"}}, HLine: 3}
	img := c.render()
	if img.Bounds().Dx() != cw {
		t.Fatalf("width %d", img.Bounds().Dx())
	}
	// The line's colour is on the image somewhere.
	found := false
	for y := 0; y < ch && !found; y++ {
		for x := 0; x < cw; x++ {
			if img.RGBAAt(x, y) == palette[0] {
				found = true
				break
			}
		}
	}
	if !found {
		t.Fatal("the series was not drawn")
	}
}

func FuzzTSPLParser(f *testing.F) {
	f.Add([]byte("CLS\r\nBARCODE 1,1,\"128\",88,2,0,3,3,\"X1\"\r\nPRINT 1\r\n"), 3)
	f.Add([]byte("BITMAP 0,0,999999999,999999999,0,"), 1)
	f.Add([]byte("\x1b!?\x10\x04\x02PRINT 99999\r\n"), 2)
	f.Fuzz(func(t *testing.T, b []byte, step int) {
		p := &Printer{ID: "f"}
		var tp tsplParser
		step = max(1, step%64)
		if step < 0 {
			step = 1
		}
		for len(b) > 0 {
			n := min(step, len(b))
			tp.feed(b[:n], p)
			b = b[n:]
		}
		if tp.skip < 0 || len(tp.line) > 64<<10 {
			t.Fatalf("parser state out of bounds: skip %d, line %d bytes", tp.skip, len(tp.line))
		}
	})
}

func FuzzParseProc(f *testing.F) {
	f.Add("VmRSS:\t 1 kB\n", "1 (x) S 1 2 3 4 5 6 7 8 9 10 1 1")
	f.Add("VmRSS:", "))))")
	f.Fuzz(func(t *testing.T, status, stat string) {
		s, err := parseProc(status, stat)
		if err == nil && s.RSSBytes < 0 {
			t.Fatalf("negative RSS from %q", status)
		}
	})
}

func TestShortOptionsFitCI(t *testing.T) {
	o := ShortOptions(t.TempDir())
	if o.FeedFor > 2*time.Minute || o.Stations > 16 {
		t.Fatalf("the short run is too big for CI: %+v", o)
	}
	full := FullOptions(t.TempDir())
	if full.Orders != 58000 || full.Stations+full.Docks != 50 {
		t.Fatalf("the full run is %d orders at %d stations, want 58,000 and 50", full.Orders, full.Stations+full.Docks)
	}
}
