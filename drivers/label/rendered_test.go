package label

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math"
	"strings"
	"testing"
)

func rendered(lang string, dpi int, w, h float64, data []byte) Rendered {
	sum := sha256.Sum256(data)
	return Rendered{Language: lang, DPI: dpi, WidthMM: w, HeightMM: h, DataB64: base64.StdEncoding.EncodeToString(data), SHA256: hex.EncodeToString(sum[:])}
}

func TestRenderedBytes(t *testing.T) {
	data := []byte("SIZE 76 mm, 130 mm\r\nGAP 2 mm, 0 mm\r\nCLS\r\nPRINT 1\r\n")
	xp := Profile{Model: "XP-470B", Language: TSPL, DPI: 203, WidthMM: 76, HeightMM: 130}
	receipt := Profile{Model: "receipt", Language: ESCPOS, DPI: 203, WidthMM: 72, Receipt: true}
	tests := []struct {
		name string
		r    Rendered
		p    Profile
		err  error
	}{
		{"ok", rendered("tspl", 203, 76, 130, data), xp, nil},
		{"ok upper case, size within 1 mm", rendered("TSPL", 203, 76.5, 129.5, data), xp, nil},
		{"zpl", rendered("zpl", 203, 76, 130, data), xp, ErrLanguageMismatch},
		{"escpos on tspl", rendered("escpos", 203, 76, 130, data), xp, ErrLanguageMismatch},
		{"300 dpi", rendered("tspl", 300, 76, 130, data), xp, ErrDPIMismatch},
		{"100x150", rendered("tspl", 203, 100, 150, data), xp, ErrSizeMismatch},
		{"height", rendered("tspl", 203, 76, 180, data), xp, ErrSizeMismatch},
		{"not a number", rendered("tspl", 203, math.NaN(), 130, data), xp, ErrSizeMismatch},
		{"receipt any height", rendered("escpos", 203, 72, 0, data), receipt, nil},
		{"receipt too wide", rendered("escpos", 203, 100, 0, data), receipt, ErrSizeMismatch},
		{"digest", func() Rendered {
			r := rendered("tspl", 203, 76, 130, data)
			r.SHA256 = strings.Repeat("ab", 32)
			return r
		}(), xp, ErrDigestMismatch},
		{"digest not hex", func() Rendered { r := rendered("tspl", 203, 76, 130, data); r.SHA256 = "9f2c…"; return r }(), xp, ErrRenderedData},
		{"bad base64", func() Rendered { r := rendered("tspl", 203, 76, 130, data); r.DataB64 = "U0l@@"; return r }(), xp, ErrRenderedData},
		{"empty", rendered("tspl", 203, 76, 130, nil), xp, ErrRenderedData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RenderedBytes(tt.r, tt.p)
			if tt.err == nil {
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("got %q, %v", got, err)
				}
				return
			}
			if !errors.Is(err, tt.err) || got != nil {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
		})
	}
}

func FuzzRenderedBytes(f *testing.F) {
	good := rendered("tspl", 203, 76, 130, []byte("CLS\r\nPRINT 1\r\n"))
	f.Add(good.Language, good.DPI, good.WidthMM, good.HeightMM, good.DataB64, good.SHA256)
	f.Add("escpos", 300, 100.0, 150.0, "====", "00")
	f.Fuzz(func(t *testing.T, lang string, dpi int, w, h float64, data, sum string) {
		p := Profile{Model: "XP-470B", Language: TSPL, DPI: 203, WidthMM: 76, HeightMM: 130}
		out, err := RenderedBytes(Rendered{Language: lang, DPI: dpi, WidthMM: w, HeightMM: h, DataB64: data, SHA256: sum}, p)
		if err != nil {
			if out != nil {
				t.Fatal("bytes with an error")
			}
			return
		}
		d := sha256.Sum256(out)
		if !strings.EqualFold(hex.EncodeToString(d[:]), strings.TrimSpace(sum)) {
			t.Fatalf("accepted data whose digest %x is not %q", d, sum)
		}
		if !(math.Abs(w-p.WidthMM) <= SizeToleranceMM) || !(math.Abs(h-p.HeightMM) <= SizeToleranceMM) || dpi != p.DPI {
			t.Fatalf("accepted %g×%g mm at %d dpi for %+v", w, h, dpi, p)
		}
	})
}
