package floor

import (
	"testing"
	"unicode/utf8"
)

// FuzzScan scans arbitrary codes at a packing bench with an order open, at an
// idle bench, and at a picker's PDA: the engine never fails or panics on a
// code, every verdict says something, and every event it records keeps the
// contract (checked when the rig closes).
func FuzzScan(f *testing.F) {
	for _, s := range []string{"SF1", eanMiHu, "]E0" + eanMiHu, "]C1010" + eanMiHu + "10B1\x1d17270600", "(01)0" + eanMiHu,
		"A-03-2-07", "", "\x00", "]", "]C1", "O-1", "DYO-1", "\xff\xfe", "(17)991399"} {
		f.Add(s, "")
		f.Add(s, "]C1")
	}
	r := newRig(f)
	l := line("X", "米糊", 1000000, eanMiHu)
	l.Location = "A-03-2-07"
	r.orders(order("O-1", "SF1", l))
	if _, err := r.e.StartPick(ctx, "PDA", "P", "O-1"); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, code, sym string) {
		for _, st := range []string{"PACK", "IDLE", "PDA"} {
			if st == "PACK" {
				if s, _ := r.e.Session(ctx, st); s == nil {
					if _, err := r.e.Scan(ctx, st, "W", "SF1", ""); err != nil {
						t.Fatal(err)
					}
				}
			}
			v, err := r.e.Scan(ctx, st, "W", code, sym)
			if err != nil {
				t.Fatalf("scan %q at %s: %v", code, st, err)
			}
			if v.Message.ZH == "" || v.Message.EN == "" || v.OK == (v.Reason != "") {
				t.Fatalf("verdict %+v", v)
			}
			if utf8.ValidString(code) && !utf8.ValidString(v.Message.EN) {
				t.Fatalf("message is not valid UTF-8: %q", v.Message.EN)
			}
			if st == "IDLE" && v.OK {
				if _, err := r.e.Cancel(ctx, st, "W", ""); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

func FuzzParseLocation(f *testing.F) {
	for _, s := range []string{"A-03-2-07", "B-1-1-1", "货架3", "A-999-9-9", "--", "a-1-2-3"} {
		f.Add(s, "A-01-1-01")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		l := ParseLocation(a)
		if l.Valid && (l.Aisle < 0 || l.Level < 0 || l.Bin < 0 || l.Zone == "") {
			t.Fatalf("ParseLocation(%q) = %+v", a, l)
		}
		if ab, ba := compareLocation(a, b), compareLocation(b, a); (ab < 0) != (ba > 0) || (ab == 0) != (ba == 0) {
			t.Fatalf("compareLocation not antisymmetric on %q, %q: %d, %d", a, b, ab, ba)
		}
	})
}
