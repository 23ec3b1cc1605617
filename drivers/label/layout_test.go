package label

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/dockhand/dockhand/drivers/printer"
)

func TestWrap(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want []string
	}{
		{"", 10, nil},
		{"浙江省杭州市", 8, []string{"浙江省杭", "州市"}},
		{"Flat 2301, Argyle Centre", 12, []string{"Flat 2301,", "Argyle", "Centre"}},
		{"彌敦道 688 號", 8, []string{"彌敦道", "688 號"}},
		{"ABCDEFGHIJKLMNOPQRSTUV", 10, []string{"ABCDEFGHIJ", "KLMNOPQRST", "UV"}},
		{"中ABCDEFGHIJ", 6, []string{"中", "ABCDEF", "GHIJ"}},
		{"a\tb\n\nc  d", 20, []string{"a b c d"}},
		{"王𠮷😀", 4, []string{"王𠮷", "😀"}},
		{"❤\ufe0f好", 10, []string{"❤好"}},
		{"连体衣 尺码:73 ×12", 16, []string{"连体衣 尺码:73", "×12"}},
		{"×1234567890", 6, []string{"×1234", "567890"}},
	}
	for _, tt := range tests {
		got := wrap(tt.in, tt.max)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("wrap(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
		for _, ln := range got {
			if Cells(ln) > tt.max {
				t.Errorf("wrap(%q, %d): line %q is %d cells", tt.in, tt.max, ln, Cells(ln))
			}
		}
	}
}

func FuzzWrap(f *testing.F) {
	for _, s := range []string{"浙江省杭州市 Flat 2301", "ABCDEFGHIJKLMNOP", "王𠮷😀", "\x00\xff"} {
		f.Add(s, 7)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 2 || max > 200 {
			return
		}
		lines := wrap(s, max)
		var joined strings.Builder
		for _, ln := range lines {
			if Cells(ln) > max || ln == "" {
				t.Fatalf("line %q of %d cells (max %d)", ln, Cells(ln), max)
			}
			joined.WriteString(ln)
		}
		// Nothing is lost but spaces.
		if strings.ReplaceAll(joined.String(), " ", "") != strings.ReplaceAll(clean(s), " ", "") {
			t.Fatalf("wrap lost text: %q -> %q", clean(s), lines)
		}
	})
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"13812345678":     "138****5678",
		"+86 13812345678": "138****5678",
		"138****5678":     "138****5678",
		"0571-88886666":   "0571-88886666",
		"+852 9123 4567":  "+852 9123 4567",
		"":                "",
	} {
		if got := maskPhone(in); got != want {
			t.Errorf("maskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

// allText joins the text of a layout without spaces.
func allText(l *Layout) string {
	var b strings.Builder
	for _, e := range l.Elements {
		if e.Kind == KindText {
			b.WriteString(e.Text)
		}
	}
	return strings.ReplaceAll(b.String(), " ", "")
}

func labelProfiles() []Profile {
	var ps []Profile
	for _, size := range [][2]float64{Size76x130, Size100x150, Size100x180} {
		for _, dpi := range []int{203, 300} {
			ps = append(ps, Profile{Language: TSPL, DPI: dpi, WidthMM: size[0], HeightMM: size[1]})
		}
	}
	return ps
}

// TestLongAddressNeverCut lays out ever longer addresses: each is either
// printed whole (possibly smaller, on more lines) or refused.
func TestLongAddressNeverCut(t *testing.T) {
	for _, p := range labelProfiles() {
		for _, n := range []int{1, 3, 6, 10} {
			t.Run(fmt.Sprintf("%gx%g_%d_x%d", p.WidthMM, p.HeightMM, p.DPI, n), func(t *testing.T) {
				w := sampleWaybill()
				w.Receiver.Address = strings.Repeat("新界沙田區火炭坳背灣街 2-12 號 Yale Industrial Centre Block B 12/F ", n)
				l, err := LayoutWaybill(w, p)
				if errors.Is(err, ErrDoesNotFit) {
					if n < 3 {
						t.Fatalf("a %d-fold address does not fit: %v", n, err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				checkLayout(t, l)
				addr := strings.ReplaceAll(partyAddress(w.Receiver), " ", "")
				if !strings.Contains(allText(l), addr) {
					t.Errorf("address cut: layout text %q lacks %q", allText(l), addr)
				}
			})
		}
	}
}

func TestHugeAddressRefused(t *testing.T) {
	w := sampleWaybill()
	w.Receiver.Address = strings.Repeat("非常长的地址", 200)
	_, err := LayoutWaybill(w, Profile{Language: TSPL, DPI: 203, WidthMM: 76, HeightMM: 130})
	if !errors.Is(err, ErrDoesNotFit) {
		t.Fatalf("err = %v, want ErrDoesNotFit", err)
	}
}

func TestItemsShortenedGiftsKept(t *testing.T) {
	w := sampleWaybill()
	for i := 0; i < 40; i++ {
		w.Items = append(w.Items, Item{Name: fmt.Sprintf("商品%02d 加长的名字", i), Qty: 1})
	}
	l, err := LayoutWaybill(w, Profile{Language: TSPL, DPI: 203, WidthMM: 76, HeightMM: 130})
	if err != nil {
		t.Fatal(err)
	}
	checkLayout(t, l)
	text := allText(l)
	if !strings.Contains(text, "…另有") {
		t.Error("a long item list was not summarised")
	}
	for _, g := range w.Gifts {
		if !strings.Contains(text, GiftText(g)) {
			t.Errorf("gift line %q missing", GiftText(g))
		}
	}
	if !strings.Contains(text, strings.ReplaceAll(partyAddress(w.Receiver), " ", "")) {
		t.Error("address cut")
	}
}

func TestLayoutInvalid(t *testing.T) {
	for name, mut := range map[string]func(*Waybill){
		"no number":   func(w *Waybill) { w.No = " " },
		"no receiver": func(w *Waybill) { w.Receiver = Party{} },
	} {
		w := sampleWaybill()
		mut(w)
		if _, err := LayoutWaybill(w, Profile{Language: TSPL, DPI: 203, WidthMM: 76, HeightMM: 130}); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := LayoutWaybill(sampleWaybill(), Profile{Language: "zpl", DPI: 203, WidthMM: 76, HeightMM: 130}); err == nil {
		t.Error("a zpl profile was accepted")
	}
	if _, err := LayoutPackingList(&PackingList{OrderID: "x"}, Profile{Language: ESCPOS, DPI: 203, WidthMM: 72}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty packing list: %v", err)
	}
}

func TestGiftAndUrgentText(t *testing.T) {
	if got := GiftText(Item{Name: "围兜", Qty: 1}); got != "赠品:围兜1件" {
		t.Errorf("GiftText = %q", got)
	}
	l, err := LayoutWaybill(sampleWaybill(), Profile{Language: TSPL, DPI: 203, WidthMM: 100, HeightMM: 150})
	if err != nil {
		t.Fatal(err)
	}
	text := allText(l)
	for _, want := range []string{"加急", "赠品:围兜1件", "赠品:安抚奶嘴2件", "【易碎】【重点复核】", "571-K1200", "集包地:杭州转运中心", "138****5678"} {
		if !strings.Contains(text, want) {
			t.Errorf("layout lacks %q", want)
		}
	}
	if strings.Contains(text, "13812345678") {
		t.Error("full phone number printed")
	}
	w := sampleWaybill()
	w.Urgent = false
	l, _ = LayoutWaybill(w, Profile{Language: TSPL, DPI: 203, WidthMM: 100, HeightMM: 150})
	if strings.Contains(allText(l), "加急") {
		t.Error("urgent mark on a normal waybill")
	}
}

// TestBitmapFallback checks which text becomes TSPL BITMAP: the rare
// character and the emoji always, traditional characters only on a
// GB2312-only font.
func TestBitmapFallback(t *testing.T) {
	fs := testFonts(t)
	count := func(cs printer.Charset) int {
		w := sampleWaybill()
		w.Remark = ""
		l, err := LayoutWaybill(w, Profile{Language: TSPL, DPI: 203, WidthMM: 100, HeightMM: 150, Charset: cs})
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := EncodeTSPL(&out, l, fs); err != nil {
			t.Fatal(err)
		}
		checkPrintable(t, TSPL, out.Bytes())
		return bytes.Count(out.Bytes(), []byte("\r\nBITMAP "))
	}
	if n := count(printer.GBK); n != 2 { // 𠮷 and 😀
		t.Errorf("GBK: %d bitmaps, want 2", n)
	}
	if n := count(printer.GB2312); n <= 2 { // plus 龍, 彌, 號, 樓 …
		t.Errorf("GB2312: %d bitmaps, want more than 2", n)
	}
}

func TestNoFontNeededForPlainText(t *testing.T) {
	w := sampleWaybill()
	w.Receiver.Name = "王小明"
	w.Remark = ""
	p := Profile{Language: TSPL, DPI: 203, WidthMM: 100, HeightMM: 150, FontPath: "/nonexistent/font.ttc"}
	var out bytes.Buffer
	if err := WriteWaybill(&out, w, p, nil); err != nil {
		t.Fatalf("plain waybill needs no font: %v", err)
	}
	w.Receiver.Name = "𠮷田"
	err := WriteWaybill(&out, w, p, nil)
	if !errors.Is(err, ErrNoCJKFont) {
		t.Fatalf("err = %v, want ErrNoCJKFont", err)
	}
	if !strings.Contains(err.Error(), "fonts-noto-cjk") {
		t.Errorf("error does not say what to install: %v", err)
	}
}

func TestFontsParsedOnce(t *testing.T) {
	a := testFonts(t)
	b, err := LoadFonts(a.Path)
	if err != nil {
		t.Fatal(err)
	}
	if a.fonts[1] != b.fonts[1] {
		t.Error("the CJK font was parsed twice")
	}
	if _, err := LoadFonts("/nonexistent/font.ttc"); !errors.Is(err, ErrNoCJKFont) {
		t.Errorf("missing font: %v", err)
	}
}

func TestProfiles(t *testing.T) {
	if len(Models()) < 6 {
		t.Fatalf("models %v", Models())
	}
	for _, m := range Models() {
		p, ok := ProfileFor(m)
		if !ok {
			t.Fatalf("%s listed but unknown", m)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", m, err)
		}
		if _, err := LayoutWaybill(sampleWaybill(), p); err != nil {
			t.Errorf("%s: sample waybill: %v", m, err)
		}
	}
	if _, ok := ProfileFor("nope"); ok {
		t.Error("unknown model found")
	}
	bad := []Profile{
		{Language: "zpl", DPI: 203, WidthMM: 76, HeightMM: 130},
		{Language: TSPL, DPI: 600, WidthMM: 76, HeightMM: 130},
		{Language: TSPL, DPI: 203, WidthMM: 76},
		{Language: TSPL, DPI: 203, WidthMM: 76, HeightMM: 130, Darkness: 20},
	}
	for _, p := range bad {
		if p.Validate() == nil {
			t.Errorf("%+v accepted", p)
		}
	}
}

func TestRasterImage(t *testing.T) {
	fs := testFonts(t)
	l, err := LayoutWaybill(sampleWaybill(), Profile{Language: TSPL, DPI: 203, WidthMM: 100, HeightMM: 150})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Raster(l, fs)
	if err != nil {
		t.Fatal(err)
	}
	if b.Width != 800 || b.Height != 1200 || b.Stride != 100 {
		t.Fatalf("raster %d×%d stride %d", b.Width, b.Height, b.Stride)
	}
	img := b.Image()
	black := 0
	for y := 0; y < b.Height; y++ {
		for x := 0; x < b.Width; x++ {
			if b.Black(x, y) != (img.ColorIndexAt(x, y) == 1) {
				t.Fatalf("pixel %d,%d differs", x, y)
			}
			if b.Black(x, y) {
				black++
			}
		}
	}
	// A rule is solid black, the margin white.
	bar := find(l, KindBar)
	if !b.Black(bar.X+10, bar.Y) || b.Black(2, 2) {
		t.Error("rule or margin wrong")
	}
	if black < 20000 || black > 400000 {
		t.Errorf("%d black pixels", black)
	}
	if _, err := Raster(l, nil); !errors.Is(err, ErrNoCJKFont) {
		t.Errorf("no fonts: %v", err)
	}
}

// FuzzWaybill lays out and encodes waybills with arbitrary text from the
// hub: it must print or refuse with a clear error, never panic or send
// text the built-in font cannot show.
func FuzzWaybill(f *testing.F) {
	f.Add("𠮷野家😀", "彌敦道 688 號", "571-K12 00", "78512345678901", "备注")
	f.Add("", "", "", "", "")
	f.Add("\x00\xff", "\r\n\t", "中", "ZT\"1", "\\[\"]")
	fs, _ := FontsFor("")
	f.Fuzz(func(t *testing.T, name, addr, sort, no, remark string) {
		w := sampleWaybill()
		w.Receiver.Name, w.Receiver.Address, w.SortCode, w.No, w.Remark = name, addr, sort, no, remark
		for _, lang := range []Language{TSPL, ESCPOS} {
			l, err := LayoutWaybill(w, Profile{Language: lang, DPI: 203, WidthMM: 76, HeightMM: 130})
			if err != nil {
				if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrDoesNotFit) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				return
			}
			var out bytes.Buffer
			if err := Encode(&out, l, fs); err != nil {
				if fs == nil && errors.Is(err, ErrNoCJKFont) {
					return
				}
				t.Fatalf("laid out but not encodable: %v", err)
			}
			checkPrintable(t, lang, out.Bytes())
		}
	})
}
