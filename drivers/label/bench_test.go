package label

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io"
	"testing"

	"github.com/dockhand/dockhand/drivers/printer"
	"github.com/dockhand/dockhand/drivers/tspl"
)

func plainWaybill() *Waybill {
	w := sampleWaybill()
	w.Receiver.Name = "王小明"
	w.Remark = "生日礼物"
	return w
}

var p100x150 = Profile{Language: TSPL, DPI: 203, WidthMM: 100, HeightMM: 150, GapMM: 2, Darkness: 8, Speed: 4}

// BenchmarkTSPLWaybill encodes a laid-out waybill of built-in text only
// (target < 200 µs).
func BenchmarkTSPLWaybill(b *testing.B) {
	l, err := LayoutWaybill(plainWaybill(), p100x150)
	if err != nil {
		b.Fatal(err)
	}
	printer.Printable('中', printer.GBK) // build the code table outside the timer
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := EncodeTSPL(&buf, l, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}

// BenchmarkTSPLWaybillLayout is layout plus encoding, the whole cost of
// printing an own-layout waybill.
func BenchmarkTSPLWaybillLayout(b *testing.B) {
	w := plainWaybill()
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := WriteWaybill(&buf, w, p100x150, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTSPLWaybillBitmapRuns adds the rare character and emoji that
// are drawn as BITMAP from the CJK font.
func BenchmarkTSPLWaybillBitmapRuns(b *testing.B) {
	fs := testFonts(b)
	l, err := LayoutWaybill(sampleWaybill(), p100x150)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := EncodeTSPL(&buf, l, fs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineFprintf is the floor for TSPL encoding: fmt.Fprintf of
// as many command lines as the waybill has.
func BenchmarkBaselineFprintf(b *testing.B) {
	l, err := LayoutWaybill(plainWaybill(), p100x150)
	if err != nil {
		b.Fatal(err)
	}
	n := len(l.Elements) + 9
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		for i := 0; i < n; i++ {
			fmt.Fprintf(&buf, "TEXT %d,%d,%q,0,%d,%d,%q\r\n", 16, i*28, tspl.FontChinese, 1, 1, "collected 12 items")
		}
	}
}

// BenchmarkRaster100x150 renders a 100×150 mm label at 203 dpi to a 1-bit
// raster (target < 20 ms).
func BenchmarkRaster100x150(b *testing.B) {
	fs := testFonts(b)
	l, err := LayoutWaybill(sampleWaybill(), p100x150)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Raster(l, fs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineRasterFill is the floor for rasterising: allocate and
// fill an 800×1200 coverage image and threshold it to bits.
func BenchmarkBaselineRasterFill(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		a := image.NewAlpha(image.Rect(0, 0, 800, 1200))
		draw.Draw(a, image.Rect(0, 0, 800, 4), image.Opaque, image.Point{}, draw.Src)
		_ = threshold(a)
	}
}

// BenchmarkPreviewPNG renders and PNG-encodes the 100×150 mm preview.
func BenchmarkPreviewPNG(b *testing.B) {
	fs := testFonts(b)
	l, err := LayoutWaybill(sampleWaybill(), p100x150)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := Preview(io.Discard, l, fs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineBlankPNG is the floor for previews: fill a blank
// two-colour 800×1200 label and png.Encode it.
func BenchmarkBaselineBlankPNG(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		img := image.NewPaletted(image.Rect(0, 0, 800, 1200), bw)
		enc := png.Encoder{CompressionLevel: png.BestSpeed}
		if err := enc.Encode(io.Discard, img); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkESCPOSWaybill encodes the sample waybill as ESC/POS (text
// bands plus raster bands).
func BenchmarkESCPOSWaybill(b *testing.B) {
	fs := testFonts(b)
	p := p100x150
	p.Language = ESCPOS
	l, err := LayoutWaybill(sampleWaybill(), p)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := EncodeESCPOS(io.Discard, l, fs); err != nil {
			b.Fatal(err)
		}
	}
}
