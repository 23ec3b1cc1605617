package label

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"

	"github.com/boombuler/barcode/code128"
	"github.com/boombuler/barcode/qr"
	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
)

// Bitmap is a 1-bit image: bit 1 = black, rows of Stride bytes, most
// significant bit leftmost — the layout of ESC/POS GS v 0 (TSPL BITMAP
// wants it inverted).
type Bitmap struct {
	Width, Height, Stride int
	Ink                   []byte
}

// NewBitmap returns a white bitmap.
func NewBitmap(w, h int) *Bitmap {
	s := (w + 7) / 8
	return &Bitmap{Width: w, Height: h, Stride: s, Ink: make([]byte, s*h)}
}

// Black reports whether the pixel at x, y is black.
func (b *Bitmap) Black(x, y int) bool {
	if x < 0 || y < 0 || x >= b.Width || y >= b.Height {
		return false
	}
	return b.Ink[y*b.Stride+x/8]&(0x80>>(x%8)) != 0
}

var bw = color.Palette{color.White, color.Black}

// expand maps a byte of bits to 8 palette indexes.
var expand = func() (t [256][8]uint8) {
	for v := range t {
		for i := range 8 {
			t[v][i] = uint8(v>>(7-i)) & 1
		}
	}
	return t
}()

// Image returns the bitmap as a two-colour paletted image (index 1 = black).
func (b *Bitmap) Image() *image.Paletted {
	img := image.NewPaletted(image.Rect(0, 0, b.Width, b.Height), bw)
	for y := 0; y < b.Height; y++ {
		row := b.Ink[y*b.Stride : (y+1)*b.Stride]
		pix := img.Pix[y*img.Stride : y*img.Stride+b.Width]
		x := 0
		for _, v := range row {
			if x+8 > len(pix) {
				break
			}
			if v != 0 { // the image starts white (index 0)
				copy(pix[x:x+8], expand[v][:])
			}
			x += 8
		}
		for ; x < len(pix); x++ {
			pix[x] = (row[x>>3] >> (7 - uint(x&7))) & 1
		}
	}
	return img
}

// EncodePNG writes the bitmap as a 1-bit PNG.
func (b *Bitmap) EncodePNG(w io.Writer) error {
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(w, b.Image()); err != nil {
		return fmt.Errorf("encode PNG preview: %w", err)
	}
	return nil
}

// threshold turns ink coverage into bits.
func threshold(a *image.Alpha) *Bitmap {
	r := a.Bounds()
	b := NewBitmap(r.Dx(), r.Dy())
	for y := 0; y < b.Height; y++ {
		src := a.Pix[y*a.Stride : y*a.Stride+b.Width]
		dst := b.Ink[y*b.Stride : (y+1)*b.Stride]
		x := 0
		for ; x+8 <= len(src); x += 8 { // 8 pixels make one byte
			if binary.LittleEndian.Uint64(src[x:]) == 0 {
				continue // all white: the common case
			}
			var bits byte
			for i, v := range src[x : x+8] {
				if v >= 0x80 {
					bits |= 0x80 >> uint(i)
				}
			}
			dst[x>>3] = bits
		}
		for ; x < len(src); x++ {
			if src[x] >= 0x80 {
				dst[x>>3] |= 0x80 >> uint(x&7)
			}
		}
	}
	return b
}

// Raster renders the whole layout as a 1-bit image (the bitmap fallback
// for printers whose fonts cannot be used, and the PNG preview). Text is
// drawn from fonts; it fails with ErrNoCJKFont when no CJK font exists.
func Raster(l *Layout, fs *Fonts) (*Bitmap, error) {
	return rasterBand(l, fs, l.Elements, 0, l.Height)
}

// rasterBand renders elems into an image of the rows y0..y1.
func rasterBand(l *Layout, fs *Fonts, elems []Element, y0, y1 int) (*Bitmap, error) {
	if fs == nil {
		return nil, fmt.Errorf("render raster: %w", ErrNoCJKFont)
	}
	a := image.NewAlpha(image.Rect(0, 0, l.Width, y1-y0))
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, e := range elems {
		e.Y -= y0
		if err := drawElement(a, fs, e); err != nil {
			return nil, err
		}
	}
	return threshold(a), nil
}

func fill(a *image.Alpha, x, y, w, h int) {
	draw.Draw(a, image.Rect(x, y, x+w, y+h), image.Opaque, image.Point{}, draw.Src)
}

func drawElement(a *image.Alpha, fs *Fonts, e Element) error {
	switch e.Kind {
	case KindText:
		drawText(a, fs, e.X, e.Y, e.Mul, e.Text)
		if e.Reverse {
			r := image.Rect(e.X, e.Y, e.X+e.W, e.Y+e.H).Intersect(a.Rect)
			for y := r.Min.Y; y < r.Max.Y; y++ {
				row := a.Pix[a.PixOffset(r.Min.X, y):a.PixOffset(r.Max.X, y)]
				for i, v := range row {
					row[i] = 0xFF - v
				}
			}
		}
	case KindBar:
		fill(a, e.X, e.Y, e.W, e.H)
	case KindBox:
		t := e.Thick
		fill(a, e.X, e.Y, e.W, t)
		fill(a, e.X, e.Y+e.H-t, e.W, t)
		fill(a, e.X, e.Y, t, e.H)
		fill(a, e.X+e.W-t, e.Y, t, e.H)
	case KindBarcode:
		bc, err := code128.Encode(e.Text)
		if err != nil {
			return fmt.Errorf("render barcode %q: %w", e.Text, err)
		}
		n := bc.Bounds().Dx()
		for i := 0; i < n; i++ {
			if c := color.GrayModel.Convert(bc.At(i, 0)).(color.Gray); c.Y < 0x80 {
				fill(a, e.X+i*e.Module, e.Y, e.Module, e.BarH)
			}
		}
		// Readable line, centred under the bars.
		w := Cells(e.Text) * CellW
		drawText(a, fs, e.X+(n*e.Module-w)/2, e.Y+e.BarH+2, 1, e.Text)
	case KindQR:
		q, err := qr.Encode(e.Text, qr.M, qr.Auto)
		if err != nil {
			return fmt.Errorf("render QR code %q: %w", e.Text, err)
		}
		n := q.Bounds().Dx()
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				if c := color.GrayModel.Convert(q.At(x, y)).(color.Gray); c.Y < 0x80 {
					fill(a, e.X+x*e.Module, e.Y+y*e.Module, e.Module, e.Module)
				}
			}
		}
	default:
		return fmt.Errorf("render raster: unknown element kind %d", e.Kind)
	}
	return nil
}

// drawText draws s in the cell grid: every rune centred in its cell(s),
// ASCII from Go Mono, the rest from the CJK font or a fallback; a rune no
// font has is drawn as an empty box (and listed by Fonts.Missing). mu held.
func drawText(a *image.Alpha, fs *Fonts, x, y, mul int, s string) {
	h := CellH * mul
	for _, r := range s {
		cw := runeCells(r) * CellW * mul
		if r == ' ' {
			x += cw
			continue
		}
		fi := fs.fontFor(r)
		size := h // CJK: the em fills the cell
		if fi == 0 {
			size = cw * 5 / 3 // Go Mono advances 0.6 em: fill the half cell
		}
		var face font.Face
		if fi >= 0 {
			face = fs.face(fi, size)
		}
		if face == nil {
			fs.missing[r] = true
			m := max(1, mul)
			inset := 2 * mul
			fill(a, x+inset, y+inset, cw-2*inset, m)
			fill(a, x+inset, y+h-inset-m, cw-2*inset, m)
			fill(a, x+inset, y+inset, m, h-2*inset)
			fill(a, x+cw-inset-m, y+inset, m, h-2*inset)
			x += cw
			continue
		}
		adv, ok := face.GlyphAdvance(r)
		if !ok {
			adv = fixed.I(cw)
		}
		m := face.Metrics()
		// Centre the glyph box vertically in the cell, horizontally by advance.
		asc, desc := m.Ascent.Ceil(), m.Descent.Ceil()
		base := y + (h-(asc+desc))/2 + asc
		if fi == 0 {
			base = y + h*4/5 // Latin sits on the CJK baseline
		}
		dx := (fixed.I(cw) - adv) / 2
		d := font.Drawer{Dst: a, Src: image.Opaque, Face: face, Dot: fixed.Point26_6{X: fixed.I(x) + dx, Y: fixed.I(base)}}
		d.DrawString(string(r))
		x += cw
	}
}

// textBitmap renders one run of text at mul as a bitmap of its cells
// (for printing what the built-in font cannot show).
func textBitmap(fs *Fonts, mul int, s string) (*Bitmap, error) {
	if fs == nil {
		return nil, ErrNoCJKFont
	}
	w := Cells(s) * CellW * mul
	a := image.NewAlpha(image.Rect(0, 0, (w+7)/8*8, CellH*mul))
	fs.mu.Lock()
	drawText(a, fs, 0, 0, mul, s)
	fs.mu.Unlock()
	return threshold(a), nil
}

// Preview renders the layout and writes it as a PNG.
func Preview(w io.Writer, l *Layout, fs *Fonts) error {
	b, err := Raster(l, fs)
	if err != nil {
		return err
	}
	return b.EncodePNG(w)
}
