package label

import (
	"fmt"
	"io"

	"github.com/dockhand/dockhand/drivers/escpos"
	"github.com/dockhand/dockhand/drivers/tspl"
)

// Encode writes a layout in its profile's language (as one image when the
// profile says Bitmap).
func Encode(w io.Writer, l *Layout, fs *Fonts) error {
	if l.Profile.Bitmap {
		return EncodeBitmap(w, l, fs)
	}
	switch l.Profile.Language {
	case TSPL:
		return EncodeTSPL(w, l, fs)
	case ESCPOS:
		return EncodeESCPOS(w, l, fs)
	}
	return fmt.Errorf("encode label: printer language %q is not tspl or escpos", l.Profile.Language)
}

// WriteWaybill lays out a waybill for the profile and writes the printer's
// bytes. fs may be nil (fonts are then loaded from the profile only if some
// text needs them).
func WriteWaybill(w io.Writer, wb *Waybill, p Profile, fs *Fonts) error {
	l, err := LayoutWaybill(wb, p)
	if err != nil {
		return err
	}
	return Encode(w, l, fs)
}

// WritePackingList lays out a packing list for the profile and writes the
// printer's bytes.
func WritePackingList(w io.Writer, pl *PackingList, p Profile, fs *Fonts) error {
	l, err := LayoutPackingList(pl, p)
	if err != nil {
		return err
	}
	return Encode(w, l, fs)
}

// rasterChunk is the most rows sent in one ESC/POS GS v 0 command; small
// printers' receive buffers overflow on a whole label in one image.
const rasterChunk = 256

// EncodeBitmap renders the whole layout as a 1-bit image and writes it in
// the profile's language: TSPL set-up, CLS, one BITMAP and PRINT; or
// ESC/POS GS v 0 images of at most 256 rows, then cut or next label.
func EncodeBitmap(w io.Writer, l *Layout, fs *Fonts) error {
	var err error
	if fs, err = fontsOr(fs, l.Profile); err != nil {
		return fmt.Errorf("encode label as image: %w", err)
	}
	b, err := Raster(l, fs)
	if err != nil {
		return fmt.Errorf("encode label as image: %w", err)
	}
	p := l.Profile
	switch p.Language {
	case TSPL:
		e := tspl.NewEncoder()
		tsplSetup(e, l)
		e.Bitmap(0, 0, b.Stride, b.Height, b.Ink)
		e.Print(1, max(1, p.Copies))
		if _, err := e.WriteTo(w); err != nil {
			return fmt.Errorf("encode label as image: %w", err)
		}
	case ESCPOS:
		e := escpos.NewEncoder()
		e.Init()
		for y := 0; y < b.Height; y += rasterChunk {
			h := min(rasterChunk, b.Height-y)
			e.Raster(b.Stride, h, b.Ink[y*b.Stride:(y+h)*b.Stride])
		}
		escposEnd(e, p)
		if _, err := e.WriteTo(w); err != nil {
			return fmt.Errorf("encode label as image: %w", err)
		}
	default:
		return fmt.Errorf("encode label as image: printer language %q is not tspl or escpos", p.Language)
	}
	return nil
}
