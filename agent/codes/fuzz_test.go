package codes

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzParseGS1(f *testing.F) {
	for _, s := range []string{
		"]C1010697123456788810B20251102\x1d17270630",
		"(01)06971234567888(10)B1(17)270600",
		"\x1d0106971234567888\x1d21SN",
		"00006141411234567890",
		"01069712345678883103000250",
		"(10)((01)",
		"(",
		"10\x1d\x1d",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := ParseGS1(s)
		if err != nil {
			if !knownErr(err) {
				t.Fatalf("ParseGS1(%q): error %v wraps no sentinel", s, err)
			}
			if !utf8.ValidString(err.Error()) && utf8.ValidString(s) {
				t.Fatalf("error message is not valid UTF-8: %q", err.Error())
			}
			return
		}
		// Both renderings parse back to the same fields; the printed form only
		// when no value holds a "(" (it is ambiguous then, as on paper).
		renderings := []string{g.ElementString()}
		paren := false
		for _, fl := range g.Fields {
			paren = paren || strings.Contains(fl.Value, "(")
		}
		if !paren {
			renderings = append(renderings, g.String())
		}
		for _, r := range renderings {
			g2, err := ParseGS1(r)
			if err != nil {
				t.Fatalf("ParseGS1(%q) ok, but its rendering %q fails: %v", s, r, err)
			}
			if g2.String() != g.String() || g2.GTIN != g.GTIN || g2.Batch != g.Batch || g2.Serial != g.Serial {
				t.Fatalf("round trip of %q via %q: got %q", s, r, g2.String())
			}
		}
	})
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"6971234567888", "036000291452", "96385074", "16971234560015",
		"]E06971234567888", "]C10106971234567888", "SF1460000000006", "78510000000014", "", "]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, err := Normalize(s)
		if err != nil {
			if !knownErr(err) {
				t.Fatalf("Normalize(%q): error %v wraps no sentinel", s, err)
			}
			return
		}
		c, _ := Parse(s, "")
		if c.Kind == KindText {
			// Text keeps its content, trimmed.
			if key == "" || strings.TrimSpace(key) != key || !strings.Contains(s, key) {
				t.Fatalf("Normalize(%q) = %q: not the trimmed text", s, key)
			}
			return
		}
		// Normalising a GTIN or GS1 code is idempotent.
		again, err := Normalize(key)
		if err != nil || again != key {
			t.Fatalf("Normalize(%q) = %q, but Normalize(%q) = %q, %v", s, key, key, again, err)
		}
		if g, err := NormalizeGTIN(s); err == nil {
			if g != key && len(s) != 0 {
				if c.Kind == KindGTIN {
					t.Fatalf("Normalize(%q) = %q but NormalizeGTIN = %q", s, key, g)
				}
			}
			if g2, err := NormalizeGTIN(g); err != nil || g2 != g {
				t.Fatalf("NormalizeGTIN not idempotent on %q: %q, %v", g, g2, err)
			}
		}
	})
}

func knownErr(err error) bool {
	for _, e := range []error{ErrCheckDigit, ErrNotGTIN, ErrTruncated, ErrUnknownAI, ErrBadField, ErrEmpty} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
