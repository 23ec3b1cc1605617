package codes

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func init() { currentYear = func() int { return 2026 } }

func TestCheckDigit(t *testing.T) {
	tests := []struct {
		body string
		want byte
	}{
		{"697123456788", '8'},      // EAN-13 6971234567888
		{"03600029145", '2'},       // UPC-A 036000291452
		{"9638507", '4'},           // EAN-8 96385074
		{"1697123456001", '5'},     // GTIN-14 16971234560015
		{"10614141234567890", '8'}, // SSCC 106141412345678908
	}
	for _, tt := range tests {
		if got := CheckDigit(tt.body); got != tt.want {
			t.Errorf("CheckDigit(%s) = %c, want %c", tt.body, got, tt.want)
		}
	}
}

func TestNormalizeGTIN(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"6971234567888", "06971234567888", nil},
		{"036000291452", "00036000291452", nil},   // UPC-A
		{"0036000291452", "00036000291452", nil},  // the same as EAN-13
		{"00036000291452", "00036000291452", nil}, // and as GTIN-14
		{"96385074", "00000096385074", nil},       // EAN-8
		{"16971234560015", "16971234560015", nil}, // case code
		{"6971234567880", "", ErrCheckDigit},
		{"697123456788", "", ErrCheckDigit}, // a digit lost: 12 digits, wrong check
		{"12345", "", ErrNotGTIN},
		{"69712345678X8", "", ErrNotGTIN},
		{"", "", ErrNotGTIN},
	}
	for _, tt := range tests {
		got, err := NormalizeGTIN(tt.in)
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("NormalizeGTIN(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestSplitAIM(t *testing.T) {
	tests := []struct{ in, aim, rest string }{
		{"]C1010697", "]C1", "010697"},
		{"]E06971234567888", "]E0", "6971234567888"},
		{"]d2abc", "]d2", "abc"},
		{"6971234567888", "", "6971234567888"},
		{"]", "", "]"},
		{"]C", "", "]C"},
		{"]-1x", "", "]-1x"},
	}
	for _, tt := range tests {
		aim, rest := SplitAIM(tt.in)
		if aim != tt.aim || rest != tt.rest {
			t.Errorf("SplitAIM(%q) = %q, %q; want %q, %q", tt.in, aim, rest, tt.aim, tt.rest)
		}
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want string
		eom  bool
		err  error
	}{
		{"261231", "2026-12-31", false, nil},
		{"260200", "2026-02-28", true, nil},
		{"240200", "2024-02-29", true, nil}, // leap year
		{"991231", "1999-12-31", false, nil},
		{"760101", "2076-01-01", false, nil}, // 50 years ahead
		{"770101", "1977-01-01", false, nil}, // more than 50 ahead: last century
		{"261331", "", false, ErrBadField},
		{"260230", "", false, ErrBadField},
		{"2612", "", false, ErrBadField},
		{"26AB01", "", false, ErrBadField},
	}
	for _, tt := range tests {
		d, err := ParseDate(tt.in)
		if !errors.Is(err, tt.err) {
			t.Errorf("ParseDate(%s) error %v, want %v", tt.in, err, tt.err)
			continue
		}
		if err == nil && (d.String() != tt.want || d.EndOfMonth != tt.eom) {
			t.Errorf("ParseDate(%s) = %s eom=%v, want %s eom=%v", tt.in, d, d.EndOfMonth, tt.want, tt.eom)
		}
	}
}

func TestParseGS1(t *testing.T) {
	gs := string(GS)
	tests := []struct {
		name   string
		in     string
		gtin   string
		batch  string
		expiry string
		serial string
		fields int
		err    error
	}{
		{"gtin batch expiry", "]C1010697123456788810B20251102" + gs + "17270630", "06971234567888", "B20251102", "2027-06-30", "", 3, nil},
		{"expiry before batch needs no GS", "01069712345678881727063010B1", "06971234567888", "B1", "2027-06-30", "", 3, nil},
		{"leading FNC1", gs + "0106971234567888" + "21SN0001", "06971234567888", "", "", "SN0001", 2, nil},
		{"human readable", "(01)06971234567888(10)B20251102(17)270600(21)X7", "06971234567888", "B20251102", "2027-06-30", "X7", 4, nil},
		{"skips other AIs", "0106971234567888" + "3103000250" + "15270101" + "37" + "12" + gs + "240PART-9" + gs + "10L1", "06971234567888", "L1", "", "", 6, nil},
		{"SSCC only", "00006141411234567890", "", "", "", "", 1, nil},
		{"GS after fixed field tolerated", "0106971234567888" + gs + "10B1", "06971234567888", "B1", "", "", 2, nil},
		{"4-digit AI 7003", "01069712345678887003" + "2612312359", "06971234567888", "", "", "", 2, nil},
		{"bad GTIN check digit", "0106971234567880", "", "", "", "", 0, ErrCheckDigit},
		{"truncated GTIN", "01069712345", "", "", "", "", 0, ErrTruncated},
		{"truncated date", "0106971234567888172706", "", "", "", "", 0, ErrTruncated},
		{"unknown AI", "0106971234567888" + "05" + "1234", "", "", "", "", 0, ErrUnknownAI},
		{"bad date", "01069712345678881727133010B1", "", "", "", "", 0, ErrBadField},
		{"batch too long: separator missing", "0106971234567888" + "10" + strings.Repeat("A", 21), "", "", "", "", 0, ErrBadField},
		{"empty batch", "0106971234567888" + "10" + gs + "21S", "", "", "", "", 0, ErrTruncated},
		{"empty", "]C1", "", "", "", "", 0, ErrEmpty},
		{"HRI unclosed", "(01", "", "", "", "", 0, ErrTruncated},
		{"HRI fixed too long", "(01)069712345678881", "", "", "", "", 0, ErrBadField},
		{"HRI unknown AI", "(05)1", "", "", "", "", 0, ErrUnknownAI},
		{"HRI garbage first", "x(01)06971234567888", "", "", "", "", 0, ErrUnknownAI},
		{"conflicting repeat", "(10)A(10)B", "", "", "", "", 0, ErrBadField},
		{"non-GS1 char", "(10)批次", "", "", "", "", 0, ErrBadField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := ParseGS1(tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("ParseGS1(%q) error = %v, want %v", tt.in, err, tt.err)
			}
			if err != nil {
				return
			}
			exp := ""
			if g.Expiry != nil {
				exp = g.Expiry.String()
			}
			if g.GTIN != tt.gtin || g.Batch != tt.batch || exp != tt.expiry || g.Serial != tt.serial || len(g.Fields) != tt.fields {
				t.Fatalf("ParseGS1(%q) = gtin %q batch %q expiry %q serial %q fields %d; want %q %q %q %q %d",
					tt.in, g.GTIN, g.Batch, exp, g.Serial, len(g.Fields), tt.gtin, tt.batch, tt.expiry, tt.serial, tt.fields)
			}
			// Both renderings parse back to the same fields.
			for _, s := range []string{g.String(), g.ElementString()} {
				g2, err := ParseGS1(s)
				if err != nil || g2.String() != g.String() {
					t.Fatalf("round trip of %q: %q, %v", s, g2.String(), err)
				}
			}
		})
	}
}

func TestParse(t *testing.T) {
	gs := string(GS)
	tests := []struct {
		name      string
		code, sym string
		kind      Kind
		key       string
		batch     string
		err       error
	}{
		{"EAN-13 with AIM prefix", "]E06971234567888", "", KindGTIN, "06971234567888", "", nil},
		{"EAN-13 from scanner symbology", "6971234567888", "]E0", KindGTIN, "06971234567888", "", nil},
		{"UPC-A", "036000291452\r\n", "", KindGTIN, "00036000291452", "", nil},
		{"EAN-8", "]E496385074", "", KindGTIN, "00000096385074", "", nil},
		{"GTIN-14 case", "16971234560015", "", KindGTIN, "16971234560015", "", nil},
		{"GS1-128", "]C1010697123456788810B20251102" + gs + "17270630", "", KindGS1, "06971234567888", "B20251102", nil},
		{"GS1 DataMatrix", "010697123456788821SN1" + gs + "10B9", "]d2", KindGS1, "06971234567888", "B9", nil},
		{"GS1 without AIM", "010697123456788810B20251102", "", KindGS1, "06971234567888", "B20251102", nil},
		{"GS1 human readable typed", "(01)06971234567888(10)B1", "", KindGS1, "06971234567888", "B1", nil},
		{"waybill number", "SF1460000000006", "", KindText, "SF1460000000006", "", nil},
		{"waybill number Code 128", "]C0JT5230000000001", "", KindText, "JT5230000000001", "", nil},
		{"numeric waybill with bad check digit", "78510000000014", "", KindText, "78510000000014", "", ErrCheckDigit},
		{"long numeric waybill", "7851000000001412", "", KindText, "7851000000001412", "", nil},
		{"EAN with bad check", "]E06971234567880", "", KindText, "6971234567880", "", ErrCheckDigit},
		{"EAN symbology, wrong length", "12345", "]E0", KindText, "12345", "", ErrNotGTIN},
		{"GS1 broken", "]C101069712345", "", KindText, "01069712345", "", ErrTruncated},
		{"location label", "A-03-2-07", "", KindText, "A-03-2-07", "", nil},
		{"empty", "  \r\n", "", KindText, "", "", ErrEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(tt.code, tt.sym)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Parse error = %v, want %v", err, tt.err)
			}
			if c.Kind != tt.kind || c.Key() != tt.key || c.Batch() != tt.batch {
				t.Fatalf("Parse(%q, %q) = kind %v key %q batch %q; want %v %q %q", tt.code, tt.sym, c.Kind, c.Key(), c.Batch(), tt.kind, tt.key, tt.batch)
			}
		})
	}
}

func TestErrorsAreWordedForPeople(t *testing.T) {
	_, err := Parse("6971234567880", "]E0")
	if err == nil || !strings.Contains(err.Error(), "should be 8") {
		t.Fatalf("error %v does not tell the right check digit", err)
	}
	_, err = ParseGS1("0106971234567888" + "05" + "1")
	if err == nil || !strings.Contains(err.Error(), "05") {
		t.Fatalf("error %v does not name the unknown AI", err)
	}
}

func TestExpiryTime(t *testing.T) {
	g, err := ParseGS1("(17)270600")
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)
	if got := g.Expiry.Time(time.UTC); !got.Equal(want) {
		t.Fatalf("expiry = %v, want %v", got, want)
	}
}

func TestShortGTINAndNames(t *testing.T) {
	if got := ShortGTIN("06971234567888"); got != "6971234567888" {
		t.Errorf("ShortGTIN = %s", got)
	}
	if got := ShortGTIN("16971234560015"); got != "16971234560015" {
		t.Errorf("ShortGTIN of a case code = %s", got)
	}
	for aim, want := range map[string]string{"]C1": "GS1-128", "]E0": "EAN-13/UPC-A", "": "unknown", "]z0": "]z0"} {
		if got := SymbologyName(aim); got != want {
			t.Errorf("SymbologyName(%q) = %q, want %q", aim, got, want)
		}
	}
}
