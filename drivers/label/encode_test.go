package label

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestEncodeBitmap(t *testing.T) {
	fs := testFonts(t)
	for _, lang := range []Language{TSPL, ESCPOS} {
		p := Profile{Language: lang, DPI: 203, WidthMM: 76, HeightMM: 130, GapMM: 2, Bitmap: true}
		l, err := LayoutWaybill(sampleWaybill(), p)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := Encode(&out, l, fs); err != nil {
			t.Fatal(err)
		}
		b := out.Bytes()
		switch lang {
		case TSPL:
			head := "SIZE 76 mm, 130 mm\r\nGAP 2 mm, 0 mm\r\nDIRECTION 0,0\r\nREFERENCE 0,0\r\nCLS\r\nBITMAP 0,0,76,1040,0,"
			if !bytes.HasPrefix(b, []byte(head)) || !bytes.HasSuffix(b, []byte("\r\nPRINT 1\r\n")) || len(b) != len(head)+76*1040+len("\r\nPRINT 1\r\n") {
				t.Errorf("TSPL image job: %q … (%d bytes)", b[:min(len(b), 120)], len(b))
			}
			if bytes.Contains(b, []byte("TEXT ")) {
				t.Error("image job holds TEXT")
			}
		case ESCPOS:
			if _, err := escposTexts(b); err != "" {
				t.Fatal(err)
			}
			if n := bytes.Count(b, []byte{0x1D, 'v', '0'}); n != (1040+255)/256 {
				t.Errorf("%d raster chunks", n)
			}
			if !bytes.HasSuffix(b, []byte{0x1D, 0x0C}) {
				t.Error("label job does not end with GS FF")
			}
		}
	}
}

// TestESCPOSBands checks how bands are printed: plain text as text, the
// waybill barcode and QR code natively, the line with 𠮷 as an image.
func TestESCPOSBands(t *testing.T) {
	fs := testFonts(t)
	p := Profile{Language: ESCPOS, DPI: 203, WidthMM: 72, Receipt: true}
	l, err := LayoutWaybill(sampleWaybill(), p)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := EncodeESCPOS(&out, l, fs); err != nil {
		t.Fatal(err)
	}
	b := out.Bytes()
	if !bytes.HasPrefix(b, []byte{0x1B, '@', 0x1C, '&', 0x1D, 'P', 203, 203}) {
		t.Errorf("start % X", b[:8])
	}
	if !bytes.Contains(b, []byte{0x1D, 'k', 73, 9, '{', 'C', 78, 51, 23, 45, 67, 89, 1}) {
		t.Error("waybill barcode not sent as GS k code set C")
	}
	if !bytes.HasSuffix(b, []byte{0x1D, 'V', 66, 0}) {
		t.Error("receipt does not end with feed and partial cut")
	}
	texts, perr := escposTexts(b)
	if perr != "" {
		t.Fatal(perr)
	}
	joined := string(bytes.Join(texts, nil))
	if !strings.Contains(joined, "\xd6\xd0\xcd\xa8\xbf\xec\xb5\xdd") { // 中通快递
		t.Error("carrier name not sent as text")
	}
	if strings.Contains(joined, "\xcd\xf5\xd0\xa1\xc3\xf7") { // 王小明 shares a band with 𠮷
		t.Error("the band with 𠮷 was sent as text")
	}
	if bytes.Count(b, []byte{0x1D, 'v', '0'}) < 2 {
		t.Error("expected raster bands for rules and the 𠮷 line")
	}
}

func TestPackingListOrder(t *testing.T) {
	l, err := LayoutPackingList(samplePackingList(), Profile{Language: ESCPOS, DPI: 203, WidthMM: 72, Receipt: true})
	if err != nil {
		t.Fatal(err)
	}
	checkLayout(t, l)
	text := allText(l)
	order := []string{"[A-01-1-01]", "[A-03-2-07]", "[B-01-1-02]赠品:围兜", "[-]赠品:安抚奶嘴", "共4种6件"}
	last := -1
	for _, s := range order {
		i := strings.Index(text, s)
		if i <= last {
			t.Fatalf("%q out of order or missing in %q", s, text)
		}
		last = i
	}
	if !strings.Contains(text, "批次B20251102") || !strings.Contains(text, "加急") {
		t.Errorf("batch or urgent missing: %q", text)
	}
	if find(l, KindBarcode).Text != "78512345678901" {
		t.Error("no waybill barcode")
	}
}

func TestMissingGlyphsReported(t *testing.T) {
	fs := testFonts(t)
	w := sampleWaybill() // the remark ends in 🎂, which no installed font draws
	l, err := LayoutWaybill(w, Profile{Language: TSPL, DPI: 203, WidthMM: 100, HeightMM: 150})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Raster(l, fs); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range fs.Missing() {
		if r == '😀' || r == '𠮷' {
			t.Errorf("%q reported missing, but a font has it", r)
		}
		found = found || r == '🎂'
	}
	if !found {
		t.Skip("this system has a font with 🎂; nothing to report")
	}
}

func TestWritePackingList(t *testing.T) {
	p, _ := ProfileFor("escpos-80mm")
	var a, b bytes.Buffer
	if err := WritePackingList(&a, samplePackingList(), p, nil); err != nil {
		t.Fatal(err)
	}
	l, err := LayoutPackingList(samplePackingList(), p)
	if err != nil {
		t.Fatal(err)
	}
	if err := EncodeESCPOS(&b, l, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) || a.Len() == 0 {
		t.Error("WritePackingList differs from layout + encode")
	}
	// The same list on a 100×150 TSPL label.
	tp, _ := ProfileFor("xprinter-xp-480b")
	if err := WritePackingList(&a, samplePackingList(), tp.WithSize(100, 150), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := LayoutPackingList(samplePackingList(), tp.WithSize(76, 40)); !errors.Is(err, ErrDoesNotFit) {
		t.Errorf("a packing list on a 40 mm label: %v", err)
	}
}

// TestConcurrentRender renders from many goroutines with the shared fonts
// (run with -race).
func TestConcurrentRender(t *testing.T) {
	fs := testFonts(t)
	l, err := LayoutWaybill(sampleWaybill(), Profile{Language: TSPL, DPI: 203, WidthMM: 76, HeightMM: 130})
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := EncodeTSPL(&want, l, fs); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			var got bytes.Buffer
			err := EncodeTSPL(&got, l, fs)
			if err == nil && !bytes.Equal(got.Bytes(), want.Bytes()) {
				err = errors.New("concurrent output differs")
			}
			if err == nil {
				_, err = Raster(l, fs)
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
