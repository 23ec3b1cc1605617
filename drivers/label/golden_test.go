package label

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// testFonts loads the system CJK font or skips loudly.
func testFonts(t testing.TB) *Fonts {
	t.Helper()
	fs, err := FontsFor("")
	if errors.Is(err, ErrNoCJKFont) {
		t.Skipf("SKIPPING: %v — install the Debian package fonts-noto-cjk to run this test", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

type goldenCase struct {
	name  string
	langs []Language
	lay   func(Profile) (*Layout, error)
	prof  Profile
}

func goldenCases() []goldenCase {
	var cases []goldenCase
	for _, size := range [][2]float64{Size76x130, Size100x150, Size100x180} {
		for _, dpi := range []int{203, 300} {
			cases = append(cases, goldenCase{
				name:  fmt.Sprintf("waybill_%gx%g_%d", size[0], size[1], dpi),
				langs: []Language{TSPL, ESCPOS},
				lay:   func(p Profile) (*Layout, error) { return LayoutWaybill(sampleWaybill(), p) },
				prof:  Profile{Model: "test", DPI: dpi, WidthMM: size[0], HeightMM: size[1], GapMM: 2, Darkness: 8, Speed: 4, Direction: 1},
			})
		}
	}
	for _, dpi := range []int{203, 300} {
		cases = append(cases, goldenCase{
			name:  fmt.Sprintf("packing_80mm_%d", dpi),
			langs: []Language{ESCPOS},
			lay:   func(p Profile) (*Layout, error) { return LayoutPackingList(samplePackingList(), p) },
			prof:  Profile{Model: "receipt", DPI: dpi, WidthMM: 72, Receipt: true},
		})
	}
	return cases
}

func checkGolden(t *testing.T, path string, got []byte, same func(a, b []byte) bool) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !same(got, want) {
		t.Errorf("%s differs from the output (%d vs %d bytes); if the change is intended run go test ./drivers/label -update and review the files", path, len(got), len(want))
	}
}

func samePixels(a, b []byte) bool {
	ia, err1 := png.Decode(bytes.NewReader(a))
	ib, err2 := png.Decode(bytes.NewReader(b))
	if err1 != nil || err2 != nil || ia.Bounds() != ib.Bounds() {
		return false
	}
	r := ia.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, _, _, _ := ia.At(x, y).RGBA()
			r2, _, _, _ := ib.At(x, y).RGBA()
			if r1 != r2 {
				return false
			}
		}
	}
	return true
}

// TestGolden renders every layout × size × dpi to TSPL, ESC/POS and a PNG
// preview and compares them with testdata/ (go test -update rewrites them).
func TestGolden(t *testing.T) {
	fs := testFonts(t)
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			var l *Layout
			for _, lang := range c.langs {
				p := c.prof
				p.Language = lang
				var err error
				if l, err = c.lay(p); err != nil {
					t.Fatal(err)
				}
				checkLayout(t, l)
				var out bytes.Buffer
				if err := Encode(&out, l, fs); err != nil {
					t.Fatal(err)
				}
				checkPrintable(t, lang, out.Bytes())
				checkGolden(t, filepath.Join("testdata", c.name+"."+string(lang)), out.Bytes(), bytes.Equal)
			}
			var pngBuf bytes.Buffer
			if err := Preview(&pngBuf, l, fs); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join("testdata", c.name+".png"), pngBuf.Bytes(), samePixels)
		})
	}
}

// checkLayout checks what every layout must hold: everything on the
// label, nothing overlapping.
func checkLayout(t *testing.T, l *Layout) {
	t.Helper()
	for i, e := range l.Elements {
		r := image.Rect(e.X, e.Y, e.X+e.W, e.Y+e.H)
		if !r.In(image.Rect(0, 0, l.Width, l.Height)) || r.Empty() {
			t.Errorf("element %d %q at %v is off the %d×%d label", i, e.Text, r, l.Width, l.Height)
		}
		for j := i + 1; j < len(l.Elements); j++ {
			f := l.Elements[j]
			if r.Overlaps(image.Rect(f.X, f.Y, f.X+f.W, f.Y+f.H)) {
				t.Errorf("element %d %q overlaps element %d %q", i, e.Text, j, f.Text)
			}
		}
	}
}

func decodePreview(t *testing.T, l *Layout, fs *Fonts) image.Image {
	t.Helper()
	var buf bytes.Buffer
	if err := Preview(&buf, l, fs); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// crop returns the element's area of img with a white quiet zone.
func crop(img image.Image, e Element, quiet int) image.Image {
	r := image.Rect(e.X-quiet, e.Y-quiet, e.X+e.W+quiet, e.Y+e.H+quiet)
	dst := image.NewGray(r)
	for i := range dst.Pix {
		dst.Pix[i] = 0xFF
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if (image.Point{x, y}).In(img.Bounds()) {
				dst.Set(x, y, img.At(x, y))
			}
		}
	}
	return dst
}

func find(l *Layout, k Kind) Element {
	for _, e := range l.Elements {
		if e.Kind == k {
			return e
		}
	}
	return Element{}
}

// TestPreviewScans reads the Code 128 and the QR code back from the PNG
// preview with a barcode reader.
func TestPreviewScans(t *testing.T) {
	fs := testFonts(t)
	for _, size := range [][2]float64{Size76x130, Size100x150, Size100x180} {
		for _, dpi := range []int{203, 300} {
			t.Run(fmt.Sprintf("%gx%g_%d", size[0], size[1], dpi), func(t *testing.T) {
				w := sampleWaybill()
				l, err := LayoutWaybill(w, Profile{Language: TSPL, DPI: dpi, WidthMM: size[0], HeightMM: size[1]})
				if err != nil {
					t.Fatal(err)
				}
				img := decodePreview(t, l, fs)
				bc := find(l, KindBarcode)
				bmp, err := gozxing.NewBinaryBitmapFromImage(crop(img, bc, 40))
				if err != nil {
					t.Fatal(err)
				}
				res, err := oned.NewCode128Reader().Decode(bmp, nil)
				if err != nil {
					t.Fatalf("code 128 not readable: %v", err)
				}
				if res.GetText() != w.No {
					t.Errorf("code 128 reads %q, want %q", res.GetText(), w.No)
				}
				q := find(l, KindQR)
				bmp, err = gozxing.NewBinaryBitmapFromImage(crop(img, q, 4*q.Module))
				if err != nil {
					t.Fatal(err)
				}
				res, err = qrcode.NewQRCodeReader().Decode(bmp, nil)
				if err != nil {
					t.Fatalf("QR code not readable: %v", err)
				}
				if res.GetText() != w.No {
					t.Errorf("QR reads %q, want %q", res.GetText(), w.No)
				}
			})
		}
	}
}
