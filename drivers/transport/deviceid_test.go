package transport

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseDeviceID(t *testing.T) {
	tests := []struct {
		in        string
		mfg, mdl  string
		cmds      []string
		langs     []string
		class, sn string
	}{
		{in: "MFG:Xprinter;MDL:XP-470B;CMD:TSPL,ESCPOS;", mfg: "Xprinter", mdl: "XP-470B",
			cmds: []string{"TSPL", "ESCPOS"}, langs: []string{LangTSPL, LangESCPOS}},
		{in: "MANUFACTURER:Gprinter;MODEL:GP-1324D;COMMAND SET:TSPL2,ESC/POS,ZPL II;CLASS:PRINTER;SN:GP2401001;\x00\x00",
			mfg: "Gprinter", mdl: "GP-1324D", cmds: []string{"TSPL2", "ESC/POS", "ZPL II"},
			langs: []string{LangTSPL, LangESCPOS, LangZPL}, class: "PRINTER", sn: "GP2401001"},
		{in: " mfg : TSC ; mdl:TTP-244 Pro ;cmd: TSPL , EPL2 ,, ;CLS:PRINTER", mfg: "TSC", mdl: "TTP-244 Pro",
			cmds: []string{"TSPL", "EPL2"}, langs: []string{LangTSPL, LangEPL}, class: "PRINTER"},
		{in: "MFG:HPRT;MFG:ignored;junk;MDL:HT300;CMD:ESC-POS,escpos,CPCL;", mfg: "HPRT", mdl: "HT300",
			cmds: []string{"ESC-POS", "escpos", "CPCL"}, langs: []string{LangESCPOS, LangCPCL}},
		{in: "MFG:Zebra;MDL:ZD421;", mfg: "Zebra", mdl: "ZD421"},
	}
	for _, tt := range tests {
		d, err := ParseDeviceID(tt.in)
		if err != nil {
			t.Errorf("ParseDeviceID(%q): %v", tt.in, err)
			continue
		}
		if d.Manufacturer != tt.mfg || d.Model != tt.mdl || d.Class != tt.class || d.Serial != tt.sn {
			t.Errorf("ParseDeviceID(%q) = %+v", tt.in, d)
		}
		if !slices.Equal(d.Commands, tt.cmds) {
			t.Errorf("ParseDeviceID(%q).Commands = %q, want %q", tt.in, d.Commands, tt.cmds)
		}
		if got := d.Languages(); !slices.Equal(got, tt.langs) {
			t.Errorf("ParseDeviceID(%q).Languages() = %q, want %q", tt.in, got, tt.langs)
		}
	}

	d, _ := ParseDeviceID("MFG:Xprinter;CMD:TSPL2,ESC/POS;")
	for _, lang := range []string{"tspl", "TSPL", "esc/pos", "ESCPOS"} {
		if !d.Speaks(lang) {
			t.Errorf("Speaks(%q) = false", lang)
		}
	}
	if d.Speaks("ZPL") {
		t.Error("Speaks(ZPL) = true for a TSPL/ESC/POS printer")
	}

	for _, bad := range []string{"", "\x00\x00", "no pairs here", ";;;", ":value;"} {
		if _, err := ParseDeviceID(bad); !errors.Is(err, errDeviceID) {
			t.Errorf("ParseDeviceID(%q) = %v, want an unreadable-id error", bad, err)
		}
	}
}

func TestDecodeDeviceID(t *testing.T) {
	text := "MFG:Xprinter;MDL:XP-470B;CMD:TSPL,ESCPOS;"
	withLen := func(n int, s string) []byte { return append([]byte{byte(n >> 8), byte(n)}, s...) }
	tests := []struct {
		name string
		in   []byte
		mdl  string
		ok   bool
	}{
		{"exact", withLen(len(text)+2, text), "XP-470B", true},
		{"padded buffer", append(withLen(len(text)+2, text), make([]byte, 900)...), "XP-470B", true},
		{"length past the buffer is clamped", withLen(1000, text), "XP-470B", true},
		{"length cuts the text", withLen(2+len("MFG:X;MDL:Y"), text), "", true},
		{"empty id", withLen(2, ""), "", false},
		{"zero length", withLen(0, text), "", false},
		{"one byte", []byte{0}, "", false},
		{"nil", nil, "", false},
	}
	for _, tt := range tests {
		d, err := DecodeDeviceID(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("%s: DecodeDeviceID err = %v, want ok=%v", tt.name, err, tt.ok)
			continue
		}
		if tt.ok && d.Model != tt.mdl {
			t.Errorf("%s: Model = %q, want %q", tt.name, d.Model, tt.mdl)
		}
	}
}

func FuzzParseDeviceID(f *testing.F) {
	for _, s := range []string{
		"MFG:Xprinter;MDL:XP-470B;CMD:TSPL,ESCPOS;",
		"MANUFACTURER:Gprinter;COMMAND SET:TSPL2,ESC/POS;SN:1;",
		"", ";", ":", "MFG", "\xff\xfe:\x00;", strings.Repeat("K:V;", 100),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDeviceID(s)
		if err != nil {
			if !strings.Contains(err.Error(), "printer identity") {
				t.Fatalf("error %q is not worded for an operator", err)
			}
			return
		}
		if len(d.Fields) == 0 {
			t.Fatal("accepted an id without fields")
		}
		for _, l := range d.Languages() {
			if l == "" || l != normLang(l) {
				t.Fatalf("language %q is not normalised", l)
			}
		}
	})
}

func FuzzDecodeDeviceID(f *testing.F) {
	f.Add([]byte("\x00\x2bMFG:Xprinter;MDL:XP-470B;CMD:TSPL,ESCPOS;"))
	f.Add([]byte{0xff, 0xff, 'A', ':', 'B'})
	f.Add([]byte{0, 2})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := DecodeDeviceID(b)
		if err == nil && len(d.Fields) == 0 {
			t.Fatal("accepted an id without fields")
		}
	})
}

func TestStatus(t *testing.T) {
	cases := []struct {
		b    byte
		want error
		str  string
	}{
		{0x18, nil, "0x18 ready"},
		{0x38, ErrPaperOut, "0x38 paper-empty"},
		{0x30, ErrPaperOut, "0x30 paper-empty,fault"},
		{0x10, ErrPrinterFault, "0x10 fault"},
		{0x08, ErrNotSelected, "0x08 not-selected"},
		{0x00, ErrPrinterFault, "0x00 fault,not-selected"},
		{0xdf, nil, "0xdf ready"},
	}
	for _, c := range cases {
		s := Status(c.b)
		err := s.Err()
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("Status(0x%02x).Err() = %v, want %v", c.b, err, c.want)
		}
		if s.String() != c.str {
			t.Errorf("Status(0x%02x).String() = %q, want %q", c.b, s, c.str)
		}
	}
}

func FuzzDecodeStatus(f *testing.F) {
	f.Add([]byte{0x18})
	f.Add([]byte{0x38})
	f.Add([]byte{})
	f.Add([]byte{1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeStatus(b)
		if len(b) != 1 {
			if err == nil {
				t.Fatalf("DecodeStatus accepted %d bytes", len(b))
			}
			return
		}
		if err != nil || byte(s) != b[0] {
			t.Fatalf("DecodeStatus(%x) = %v, %v", b, s, err)
		}
		// Ready exactly when no error, selected and not out of paper.
		ready := s.NoError() && s.Selected() && !s.PaperEmpty()
		if (s.Err() == nil) != ready {
			t.Fatalf("Status 0x%02x: Err()=%v but ready=%v", b[0], s.Err(), ready)
		}
	})
}
