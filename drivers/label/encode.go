package label

import (
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/dockhand/dockhand/drivers/escpos"
	"github.com/dockhand/dockhand/drivers/printer"
	"github.com/dockhand/dockhand/drivers/tspl"
)

// fontsOr returns fs, or loads the profile's fonts when fs is nil.
func fontsOr(fs *Fonts, p Profile) (*Fonts, error) {
	if fs != nil {
		return fs, nil
	}
	return FontsFor(p.FontPath)
}

// EncodeTSPL writes the layout as a TSPL program: the set-up from the
// profile, CLS, one command per element and PRINT. Text runs the built-in
// font cannot show become BITMAP commands drawn from fs (nil: the
// profile's fonts are loaded only if such text exists).
func EncodeTSPL(w io.Writer, l *Layout, fs *Fonts) error {
	e := tspl.NewEncoder()
	if err := appendTSPL(e, l, fs); err != nil {
		return err
	}
	if _, err := e.WriteTo(w); err != nil {
		return fmt.Errorf("encode TSPL: %w", err)
	}
	return nil
}

func appendTSPL(e *tspl.Encoder, l *Layout, fs *Fonts) error {
	p := l.Profile
	e.Charset = p.Charset
	tsplSetup(e, l)
	for _, el := range l.Elements {
		switch el.Kind {
		case KindText:
			x := el.X
			for _, run := range printer.SplitRuns(el.Text, p.Charset) {
				if run.Printable {
					e.Text(x, el.Y, tspl.FontChinese, 0, el.Mul, el.Mul, run.Text)
				} else {
					var err error
					if fs, err = fontsOr(fs, p); err != nil {
						return fmt.Errorf("encode TSPL: text %q: %w", run.Text, err)
					}
					b, err := textBitmap(fs, el.Mul, run.Text)
					if err != nil {
						return fmt.Errorf("encode TSPL: text %q: %w", run.Text, err)
					}
					e.Bitmap(x, el.Y, b.Stride, b.Height, b.Ink)
				}
				x += Cells(run.Text) * CellW * el.Mul
			}
			if el.Reverse {
				e.Reverse(el.X, el.Y, el.W, el.H)
			}
		case KindBarcode:
			e.Barcode128(el.X, el.Y, el.BarH, tspl.HRICenter, 0, el.Module, el.Module, el.Text)
		case KindQR:
			e.QRCode(el.X, el.Y, 'M', el.Module, 0, el.Text)
		case KindBar:
			e.Bar(el.X, el.Y, el.W, el.H)
		case KindBox:
			e.Box(el.X, el.Y, el.X+el.W, el.Y+el.H, el.Thick)
		}
	}
	e.Print(1, max(1, p.Copies))
	if err := e.Err(); err != nil {
		return fmt.Errorf("encode TSPL: %w", err)
	}
	return nil
}

// tsplSetup writes the label set-up from the profile and CLS.
func tsplSetup(e *tspl.Encoder, l *Layout) {
	p := l.Profile
	h := p.HeightMM
	if h == 0 { // a roll: the content's height
		h = math.Ceil(float64(l.Height) / p.DotsPerMM())
	}
	e.Size(p.WidthMM, h)
	if p.BlackMarkMM > 0 {
		e.BLine(p.BlackMarkMM, 0)
	} else {
		e.Gap(p.GapMM, 0)
	}
	e.Direction(p.Direction, false)
	e.Reference(0, 0)
	if p.Darkness > 0 {
		e.Density(p.Darkness)
	}
	if p.Speed > 0 {
		e.Speed(p.Speed)
	}
	if p.CodePage != "" {
		e.CodePage(p.CodePage)
	}
	e.Cls()
}

// band is a run of elements that overlap vertically.
type band struct {
	y0, y1 int
	elems  []Element
}

func bands(elems []Element) []band {
	sorted := slices.Clone(elems)
	slices.SortStableFunc(sorted, func(a, b Element) int {
		if a.Y != b.Y {
			return a.Y - b.Y
		}
		return a.X - b.X
	})
	var out []band
	for _, e := range sorted {
		if n := len(out); n > 0 && e.Y < out[n-1].y1 {
			out[n-1].elems = append(out[n-1].elems, e)
			out[n-1].y1 = max(out[n-1].y1, e.Y+e.H)
			continue
		}
		out = append(out, band{y0: e.Y, y1: e.Y + e.H, elems: []Element{e}})
	}
	return out
}

// textLine reports whether a band can print as one line of built-in text:
// only text elements, same top and size, all printable.
func textLine(b band, cs printer.Charset) bool {
	for _, e := range b.elems {
		if e.Kind != KindText || e.Y != b.elems[0].Y || e.Mul != b.elems[0].Mul {
			return false
		}
		for _, r := range e.Text {
			if !printer.Printable(r, cs) {
				return false
			}
		}
	}
	return true
}

func needsFont(b band) bool {
	for _, e := range b.elems {
		if e.Kind == KindText || e.Kind == KindBarcode {
			return true
		}
	}
	return false
}

// EncodeESCPOS writes the layout as an ESC/POS stream with the same
// geometry. The layout is cut into horizontal bands; a band of plain
// built-in text prints as text (positioned with ESC $), a lone barcode or
// QR code prints with the printer's own commands, and any other band
// (rules, boxes, text beside a QR code, text the built-in font cannot
// show) prints as a raster image (GS v 0) drawn from fs (nil: loaded from
// the profile when needed). Paper moves between bands with ESC J.
func EncodeESCPOS(w io.Writer, l *Layout, fs *Fonts) error {
	e := escpos.NewEncoder()
	if err := appendESCPOS(e, l, fs); err != nil {
		return err
	}
	if _, err := e.WriteTo(w); err != nil {
		return fmt.Errorf("encode ESC/POS: %w", err)
	}
	return nil
}

func appendESCPOS(e *escpos.Encoder, l *Layout, fs *Fonts) error {
	p := l.Profile
	e.Charset = p.Charset
	// Motion units of one dot (half a dot's precision at 300 dpi, where
	// GS P cannot say 1/300 inch).
	unit, div := p.DPI, 1
	if unit > 255 {
		unit, div = p.DPI/2, 2
	}
	u := func(dots int) int { return (dots + div/2) / div }
	e.Init()
	e.ChineseMode(true)
	e.MotionUnits(unit, unit)
	cur, end := 0, 0 // paper position and the bottom of what is printed
	for _, b := range bands(l.Elements) {
		if b.y0 > cur {
			e.FeedDots(u(b.y0 - cur))
		}
		switch {
		case textLine(b, p.Charset):
			m := b.elems[0].Mul
			e.Size(m, m)
			for _, t := range b.elems {
				e.Position(u(t.X))
				if t.Reverse {
					e.Reverse(true)
				}
				e.Text(t.Text)
				if t.Reverse {
					e.Reverse(false)
				}
			}
			// ESC J before the next band prints the line and feeds from
			// its top.
			cur, end = b.y0, b.y1
			continue
		case len(b.elems) == 1 && b.elems[0].Kind == KindBarcode && b.elems[0].Module <= 6 && b.elems[0].BarH <= 255:
			el := b.elems[0]
			e.Justify(justify(l, el))
			e.BarcodeHeight(el.BarH)
			e.BarcodeWidth(el.Module)
			e.BarcodeHRI(escpos.HRIBelow)
			e.Code128(el.Text)
			e.Justify(escpos.Left)
		case len(b.elems) == 1 && b.elems[0].Kind == KindQR && b.elems[0].Module <= 16:
			el := b.elems[0]
			e.Justify(justify(l, el))
			e.QR([]byte(el.Text), el.Module, escpos.QRLevelM)
			e.Justify(escpos.Left)
		default:
			var bfs *Fonts
			if needsFont(b) {
				var err error
				if fs, err = fontsOr(fs, p); err != nil {
					return fmt.Errorf("encode ESC/POS: band at %d dots: %w", b.y0, err)
				}
				bfs = fs
			} else {
				bfs = &Fonts{}
			}
			bm, err := rasterBand(l, bfs, b.elems, b.y0, b.y1)
			if err != nil {
				return fmt.Errorf("encode ESC/POS: %w", err)
			}
			e.Raster(bm.Stride, bm.Height, bm.Ink)
		}
		cur, end = b.y1, b.y1
		if err := e.Err(); err != nil {
			return fmt.Errorf("encode ESC/POS: %w", err)
		}
	}
	if end > cur {
		e.FeedDots(u(end - cur))
		cur = end
	}
	e.Size(1, 1)
	if p.Receipt {
		e.FeedDots(u(max(0, l.Height-cur)))
	}
	escposEnd(e, p)
	if err := e.Err(); err != nil {
		return fmt.Errorf("encode ESC/POS: %w", err)
	}
	return nil
}

// escposEnd finishes a job: feed and partial cut on a receipt printer,
// feed to the next label in label mode.
func escposEnd(e *escpos.Encoder, p Profile) {
	if p.Receipt {
		e.FeedCut(true, 0)
	} else {
		e.NextLabel()
	}
}

// justify picks the ESC a alignment closest to where the layout put el.
func justify(l *Layout, el Element) escpos.Align {
	mid := el.X + el.W/2
	switch {
	case mid < l.Width/3:
		return escpos.Left
	case mid > l.Width*2/3:
		return escpos.Right
	}
	return escpos.Center
}
