package tspl

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/dockhand/dockhand/drivers/printer"
)

func TestCommands(t *testing.T) {
	tests := []struct {
		name string
		do   func(e *Encoder)
		want string
	}{
		{"size", func(e *Encoder) { e.Size(76, 130) }, "SIZE 76 mm, 130 mm\r\n"},
		{"size fraction", func(e *Encoder) { e.Size(100.5, 150) }, "SIZE 100.5 mm, 150 mm\r\n"},
		{"gap", func(e *Encoder) { e.Gap(2, 0) }, "GAP 2 mm, 0 mm\r\n"},
		{"bline", func(e *Encoder) { e.BLine(3, 0.5) }, "BLINE 3 mm, 0.5 mm\r\n"},
		{"direction", func(e *Encoder) { e.Direction(1, false) }, "DIRECTION 1,0\r\n"},
		{"reference", func(e *Encoder) { e.Reference(0, 0) }, "REFERENCE 0,0\r\n"},
		{"density", func(e *Encoder) { e.Density(8) }, "DENSITY 8\r\n"},
		{"speed", func(e *Encoder) { e.Speed(4) }, "SPEED 4\r\n"},
		{"speed half", func(e *Encoder) { e.Speed(1.5) }, "SPEED 1.5\r\n"},
		{"codepage", func(e *Encoder) { e.CodePage("UTF-8") }, "CODEPAGE UTF-8\r\n"},
		{"cls", func(e *Encoder) { e.Cls() }, "CLS\r\n"},
		{"text ascii", func(e *Encoder) { e.Text(10, 20, Font3, 0, 1, 1, "ZTO 123") }, "TEXT 10,20,\"3\",0,1,1,\"ZTO 123\"\r\n"},
		{"text quote", func(e *Encoder) { e.Text(0, 0, Font3, 0, 1, 1, `say "hi"`) }, "TEXT 0,0,\"3\",0,1,1,\"say \\[\"]hi\\[\"]\"\r\n"},
		{"text chinese", func(e *Encoder) { e.Text(8, 8, FontChinese, 0, 2, 2, "中A") },
			"TEXT 8,8,\"TSS24.BF2\",0,2,2,\"\xd6\xd0A\"\r\n"},
		{"text euro is two bytes", func(e *Encoder) { e.Text(0, 0, FontChinese, 0, 1, 1, "€") },
			"TEXT 0,0,\"TSS24.BF2\",0,1,1,\"\xa2\xe3\"\r\n"},
		{"block", func(e *Encoder) { e.Block(16, 40, 560, 100, FontChinese, 0, 1, 1, 4, 1, "浙江省杭州市") },
			"BLOCK 16,40,560,100,\"TSS24.BF2\",0,1,1,4,1,\"\xd5\xe3\xbd\xad\xca\xa1\xba\xbc\xd6\xdd\xca\xd0\"\r\n"},
		{"barcode", func(e *Encoder) { e.Barcode128(40, 300, 96, HRICenter, 0, 2, 2, "78512345678901") },
			"BARCODE 40,300,\"128\",96,2,0,2,2,\"78512345678901\"\r\n"},
		{"qrcode", func(e *Encoder) { e.QRCode(400, 900, 'M', 5, 0, `A"1`) }, "QRCODE 400,900,M,5,A,0,\"A\\[\"]1\"\r\n"},
		{"bar", func(e *Encoder) { e.Bar(0, 100, 608, 3) }, "BAR 0,100,608,3\r\n"},
		{"box", func(e *Encoder) { e.Box(10, 10, 100, 60, 3) }, "BOX 10,10,100,60,3\r\n"},
		{"reverse", func(e *Encoder) { e.Reverse(400, 16, 144, 48) }, "REVERSE 400,16,144,48\r\n"},
		{"bitmap inverts", func(e *Encoder) { e.Bitmap(5, 6, 2, 1, []byte{0xF0, 0x01}) }, "BITMAP 5,6,2,1,0,\x0f\xfe\r\n"},
		{"bitmap raw", func(e *Encoder) { e.BitmapRaw(5, 6, 1, 2, []byte{0x00, 0xFF}) }, "BITMAP 5,6,1,2,0,\x00\xff\r\n"},
		{"print", func(e *Encoder) { e.Print(1, 1) }, "PRINT 1\r\n"},
		{"print copies", func(e *Encoder) { e.Print(1, 3) }, "PRINT 1,3\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEncoder()
			tt.do(e)
			if err := e.Err(); err != nil {
				t.Fatal(err)
			}
			if got := string(e.Bytes()); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
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
		{"size zero", func(e *Encoder) { e.Size(0, 130) }, ErrBadArgument},
		{"density", func(e *Encoder) { e.Density(16) }, ErrBadArgument},
		{"speed", func(e *Encoder) { e.Speed(0) }, ErrBadArgument},
		{"codepage injection", func(e *Encoder) { e.CodePage("437\r\nPRINT 9") }, ErrBadArgument},
		{"font injection", func(e *Encoder) { e.Text(0, 0, `3",0,1,1,"x`, 0, 1, 1, "a") }, ErrBadArgument},
		{"text newline", func(e *Encoder) { e.Text(0, 0, Font3, 0, 1, 1, "a\r\nPRINT 9") }, ErrBadArgument},
		{"text chinese in latin font", func(e *Encoder) { e.Text(0, 0, Font3, 0, 1, 1, "中") }, ErrBadArgument},
		{"text rare character", func(e *Encoder) { e.Text(0, 0, FontChinese, 0, 1, 1, "王𠮷") }, printer.ErrUnprintable},
		{"text emoji", func(e *Encoder) { e.Text(0, 0, FontChinese, 0, 1, 1, "好😀") }, printer.ErrUnprintable},
		{"barcode non ascii", func(e *Encoder) { e.Barcode128(0, 0, 50, HRINone, 0, 2, 2, "12中") }, ErrBadArgument},
		{"barcode empty", func(e *Encoder) { e.Barcode128(0, 0, 50, HRINone, 0, 2, 2, "") }, ErrBadArgument},
		{"qr level", func(e *Encoder) { e.QRCode(0, 0, 'X', 4, 0, "a") }, ErrBadArgument},
		{"bitmap short", func(e *Encoder) { e.Bitmap(0, 0, 2, 2, []byte{1, 2, 3}) }, ErrBadArgument},
		{"box inverted", func(e *Encoder) { e.Box(10, 10, 5, 5, 1) }, ErrBadArgument},
		{"print zero", func(e *Encoder) { e.Print(0, 1) }, ErrBadArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := NewEncoder()
			e.Cls()
			tt.do(e)
			e.Print(1, 1) // must not be written after an error
			if !errors.Is(e.Err(), tt.is) {
				t.Fatalf("err = %v, want %v", e.Err(), tt.is)
			}
			if got := string(e.Bytes()); got != "CLS\r\n" {
				t.Errorf("output after error: %q", got)
			}
			if _, err := e.WriteTo(&bytes.Buffer{}); err == nil {
				t.Error("WriteTo after an error succeeded")
			}
		})
	}
}

func TestCharsetGB2312(t *testing.T) {
	e := NewEncoder()
	e.Charset = printer.GB2312
	e.Text(0, 0, FontChinese, 0, 1, 1, "龍") // GBK, not GB2312
	if !errors.Is(e.Err(), printer.ErrUnprintable) {
		t.Fatalf("err = %v, want unprintable", e.Err())
	}
	e = NewEncoder()
	e.Text(0, 0, FontChinese, 0, 1, 1, "龍")
	if e.Err() != nil {
		t.Fatal(e.Err())
	}
}

func TestWriteTo(t *testing.T) {
	e := NewEncoder()
	e.Cls()
	e.Print(1, 1)
	var b bytes.Buffer
	n, err := e.WriteTo(&b)
	if err != nil || n != int64(b.Len()) || b.String() != "CLS\r\nPRINT 1\r\n" {
		t.Fatalf("WriteTo = %d, %v, %q", n, err, b.String())
	}
	e.Reset()
	if len(e.Bytes()) != 0 {
		t.Fatal("Reset kept bytes")
	}
}

func TestAllLinesEndCRLF(t *testing.T) {
	e := NewEncoder()
	e.Size(76, 130)
	e.Gap(2, 0)
	e.Cls()
	e.Text(0, 0, FontChinese, 0, 1, 1, "收件人")
	e.Print(1, 1)
	for _, line := range strings.SplitAfter(string(e.Bytes()), "\n") {
		if line != "" && !strings.HasSuffix(line, "\r\n") {
			t.Errorf("line %q does not end in CR LF", line)
		}
	}
}
