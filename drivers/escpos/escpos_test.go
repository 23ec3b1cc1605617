package escpos

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/dockhand/dockhand/drivers/printer"
)

func TestCommands(t *testing.T) {
	tests := []struct {
		name string
		do   func(e *Encoder)
		want []byte
	}{
		{"init", (*Encoder).Init, []byte{0x1B, 0x40}},
		{"chinese on", func(e *Encoder) { e.ChineseMode(true) }, []byte{0x1C, 0x26}},
		{"chinese off", func(e *Encoder) { e.ChineseMode(false) }, []byte{0x1C, 0x2E}},
		{"bold", func(e *Encoder) { e.Emphasis(true) }, []byte{0x1B, 0x45, 1}},
		{"reverse", func(e *Encoder) { e.Reverse(true) }, []byte{0x1D, 0x42, 1}},
		{"double both", func(e *Encoder) { e.Size(2, 2) }, []byte{0x1D, 0x21, 0x11}},
		{"double height", func(e *Encoder) { e.Size(1, 2) }, []byte{0x1D, 0x21, 0x01}},
		{"center", func(e *Encoder) { e.Justify(Center) }, []byte{0x1B, 0x61, 1}},
		{"spacing", func(e *Encoder) { e.LineSpacing(30) }, []byte{0x1B, 0x33, 30}},
		{"default spacing", (*Encoder).DefaultLineSpacing, []byte{0x1B, 0x32}},
		{"units", func(e *Encoder) { e.MotionUnits(203, 203) }, []byte{0x1D, 0x50, 203, 203}},
		{"position", func(e *Encoder) { e.Position(300) }, []byte{0x1B, 0x24, 0x2C, 0x01}},
		{"text", func(e *Encoder) { e.Text("赠品:围兜1件") }, []byte("\xd4\xf9\xc6\xb7:\xce\xa7\xb6\xb51\xbc\xfe")},
		{"newline", (*Encoder).Newline, []byte{0x0A}},
		{"feed", func(e *Encoder) { e.Feed(3) }, []byte{0x1B, 0x64, 3}},
		{"feed dots", func(e *Encoder) { e.FeedDots(300) }, []byte{0x1B, 0x4A, 255, 0x1B, 0x4A, 45}},
		{"cut", func(e *Encoder) { e.Cut(false) }, []byte{0x1D, 0x56, 0}},
		{"partial cut", func(e *Encoder) { e.Cut(true) }, []byte{0x1D, 0x56, 1}},
		{"feed cut", func(e *Encoder) { e.FeedCut(true, 10) }, []byte{0x1D, 0x56, 66, 10}},
		{"next label", (*Encoder).NextLabel, []byte{0x1D, 0x0C}},
		{"raster", func(e *Encoder) { e.Raster(2, 1, []byte{0x80, 0x01}) }, []byte{0x1D, 0x76, 0x30, 0, 2, 0, 1, 0, 0x80, 0x01}},
		{"barcode height", func(e *Encoder) { e.BarcodeHeight(80) }, []byte{0x1D, 0x68, 80}},
		{"barcode width", func(e *Encoder) { e.BarcodeWidth(2) }, []byte{0x1D, 0x77, 2}},
		{"hri below", func(e *Encoder) { e.BarcodeHRI(HRIBelow) }, []byte{0x1D, 0x48, 2}},
		{"code128", func(e *Encoder) { e.Code128("No.12345678") },
			[]byte{0x1D, 0x6B, 73, 11, '{', 'B', 'N', 'o', '.', '{', 'C', 12, 34, 56, 78}},
		{"qr", func(e *Encoder) { e.QR([]byte("ZT1"), 6, QRLevelM) }, []byte{
			0x1D, 0x28, 0x6B, 4, 0, 0x31, 0x41, 0x32, 0,
			0x1D, 0x28, 0x6B, 3, 0, 0x31, 0x43, 6,
			0x1D, 0x28, 0x6B, 3, 0, 0x31, 0x45, 49,
			0x1D, 0x28, 0x6B, 6, 0, 0x31, 0x50, 0x30, 'Z', 'T', '1',
			0x1D, 0x28, 0x6B, 3, 0, 0x31, 0x51, 0x30}},
		{"asb", func(e *Encoder) { e.EnableASB(ASBAll) }, []byte{0x1D, 0x61, 0x0F}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEncoder()
			tt.do(e)
			if e.Err() != nil {
				t.Fatal(e.Err())
			}
			if !bytes.Equal(e.Bytes(), tt.want) {
				t.Errorf("got  % X\nwant % X", e.Bytes(), tt.want)
			}
		})
	}
}

func TestCommandErrors(t *testing.T) {
	tests := []struct {
		name string
		do   func(e *Encoder)
		is   error
	}{
		{"size", func(e *Encoder) { e.Size(9, 1) }, ErrBadArgument},
		{"rare character", func(e *Encoder) { e.Text("吉𠮷") }, printer.ErrUnprintable},
		{"emoji", func(e *Encoder) { e.Text("🎁") }, printer.ErrUnprintable},
		{"control", func(e *Encoder) { e.Text("a\x1b@") }, printer.ErrUnprintable},
		{"raster size", func(e *Encoder) { e.Raster(2, 2, []byte{1}) }, ErrBadArgument},
		{"code128 chinese", func(e *Encoder) { e.Code128("单号1") }, ErrBadArgument},
		{"qr empty", func(e *Encoder) { e.QR(nil, 4, QRLevelM) }, ErrBadArgument},
		{"qr size", func(e *Encoder) { e.QR([]byte("a"), 17, QRLevelM) }, ErrBadArgument},
		{"asb mask", func(e *Encoder) { e.EnableASB(0x10) }, ErrBadArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEncoder()
			e.Init()
			tt.do(e)
			e.Newline()
			if !errors.Is(e.Err(), tt.is) {
				t.Fatalf("err = %v, want %v", e.Err(), tt.is)
			}
			if !bytes.Equal(e.Bytes(), []byte{ESC, '@'}) {
				t.Errorf("output after error: % X", e.Bytes())
			}
			if _, err := e.WriteTo(&bytes.Buffer{}); err == nil {
				t.Error("WriteTo after error succeeded")
			}
		})
	}
}

// parseCode128 turns GS k m=73 data back into text, checking the rules.
func parseCode128(d []byte) (string, error) {
	if len(d) < 2 || d[0] != '{' {
		return "", fmt.Errorf("no code set prefix")
	}
	var out []byte
	set := byte(0)
	for i := 0; i < len(d); i++ {
		c := d[i]
		if c == '{' {
			if i+1 >= len(d) {
				return "", fmt.Errorf("dangling {")
			}
			i++
			switch d[i] {
			case 'A', 'B', 'C':
				set = d[i]
			case '{':
				if set != 'B' {
					return "", fmt.Errorf("{{ outside set B")
				}
				out = append(out, '{')
			default:
				return "", fmt.Errorf("unknown {%c", d[i])
			}
			continue
		}
		switch set {
		case 'C':
			if c > 99 {
				return "", fmt.Errorf("set C byte %d", c)
			}
			out = append(out, '0'+c/10, '0'+c%10)
		case 'A':
			if c >= 0x60 {
				return "", fmt.Errorf("set A byte 0x%02X", c)
			}
			out = append(out, c)
		case 'B':
			if c < 0x20 {
				return "", fmt.Errorf("set B byte 0x%02X", c)
			}
			out = append(out, c)
		}
	}
	return string(out), nil
}

func TestCode128Data(t *testing.T) {
	tests := []struct {
		in   string
		want []byte
	}{
		{"78512345678901", []byte{'{', 'C', 78, 51, 23, 45, 67, 89, 1}},
		{"12", []byte{'{', 'C', 12}},
		{"1", []byte("{B1")},
		{"123", []byte("{B123")},
		{"12345", []byte{'{', 'C', 12, 34, '{', 'B', '5'}},
		{"SF1234567890123", []byte{'{', 'B', 'S', 'F', '1', '{', 'C', 23, 45, 67, 89, 1, 23}},
		{"SF123", []byte("{BSF123")},
		{"1234AB", []byte{'{', 'C', 12, 34, '{', 'B', 'A', 'B'}},
		{"A123456B", []byte{'{', 'B', 'A', '{', 'C', 12, 34, 56, '{', 'B', 'B'}},
		{"A12345B", []byte("{BA12345B")},
		{"AB{12", []byte("{BAB{{12")},
		{"{", []byte("{B{{")},
		{"\tAB", []byte("{A\tAB")},
		{"ab\t", []byte("{Bab{A\t")},
		{"\tab", []byte("{A\t{Bab")},
		{"JT0001234567890", []byte{'{', 'B', 'J', 'T', '0', '{', 'C', 0, 12, 34, 56, 78, 90}},
	}
	for _, tt := range tests {
		got, err := Code128Data(tt.in)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if !bytes.Equal(got, tt.want) {
			t.Errorf("%q:\n got % X (%q)\nwant % X (%q)", tt.in, got, got, tt.want, tt.want)
		}
		if back, err := parseCode128(got); err != nil || back != tt.in {
			t.Errorf("%q: parsed back %q, %v", tt.in, back, err)
		}
	}
	for _, bad := range []string{"", "中", "\x80", string(bytes.Repeat([]byte("{"), 200))} {
		if _, err := Code128Data(bad); !errors.Is(err, ErrBadArgument) {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}

func FuzzCode128Data(f *testing.F) {
	for _, s := range []string{"78512345678901", "SF1234567890123", "AB{12", "\tab", "1", "{{{"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Code128Data(s)
		if err != nil {
			return
		}
		if len(d) > 255 {
			t.Fatalf("%d bytes", len(d))
		}
		back, err := parseCode128(d)
		if err != nil || back != s {
			t.Fatalf("%q -> % X -> %q, %v", s, d, back, err)
		}
	})
}
