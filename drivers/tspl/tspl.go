// Package tspl encodes TSPL/TSPL2 label commands, the language of TSC,
// Xprinter, Gprinter and HPRT label printers, and decodes their one-byte
// real-time status.
//
// The Encoder is pure: it appends command lines (each ending CR LF) to a
// buffer and only ever writes them to an io.Writer. It knows TSPL's traps: a
// space before "mm" in SIZE, `\["]` for a double quote inside a string,
// BITMAP data where 0 is black, and Chinese text for the built-in font
// TSS24.BF2 as 2-byte GB18030 codes (text the font cannot show is refused
// with printer.ErrUnprintable so that the caller can print it as a bitmap).
package tspl

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/dockhand/dockhand/drivers/printer"
)

// Dots per millimetre of the common print heads.
const (
	DotsPerMM203 = 8.0
	DotsPerMM300 = 11.81
)

// DotsPerMM returns the dots per millimetre of a head of dpi dots per inch.
func DotsPerMM(dpi int) float64 {
	switch dpi {
	case 203:
		return DotsPerMM203
	case 300:
		return DotsPerMM300
	}
	return float64(dpi) / 25.4
}

// Built-in font names.
const (
	FontChinese = "TSS24.BF2" // simplified Chinese 24×24 (ASCII 12×24), GB codes
	Font1       = "1"         // 8×12
	Font2       = "2"         // 12×20
	Font3       = "3"         // 16×24
	Font4       = "4"         // 24×32
	Font5       = "5"         // 32×48
)

// HRI is where BARCODE prints its human-readable line.
type HRI int

// Human-readable positions.
const (
	HRINone HRI = iota
	HRILeft
	HRICenter
	HRIRight
)

// ErrBadArgument is matched by errors about a command's arguments.
var ErrBadArgument = errors.New("tspl: bad command argument")

// Encoder builds a TSPL program. Methods append commands; the first error
// stops further output and is returned by Err and WriteTo.
type Encoder struct {
	buf []byte
	err error
	// Charset is what the TSS24.BF2 font can show (default printer.GBK).
	Charset printer.Charset
}

// NewEncoder returns an empty Encoder.
func NewEncoder() *Encoder { return &Encoder{buf: make([]byte, 0, 2048)} }

// Reset empties the encoder for reuse, keeping its buffer.
func (e *Encoder) Reset() { e.buf, e.err = e.buf[:0], nil }

// Err returns the first error met.
func (e *Encoder) Err() error { return e.err }

// Bytes returns the program so far (valid until the next call).
func (e *Encoder) Bytes() []byte { return e.buf }

// WriteTo writes the program to w.
func (e *Encoder) WriteTo(w io.Writer) (int64, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := w.Write(e.buf)
	if err != nil {
		return int64(n), fmt.Errorf("tspl: write program: %w", err)
	}
	return int64(n), nil
}

func (e *Encoder) fail(op string, format string, args ...any) {
	if e.err == nil {
		e.err = fmt.Errorf("tspl: %s: %s: %w", op, fmt.Sprintf(format, args...), ErrBadArgument)
	}
}

func (e *Encoder) cmd(name string) { e.buf = append(e.buf, name...) }

func (e *Encoder) int(v int) { e.buf = strconv.AppendInt(e.buf, int64(v), 10) }

func (e *Encoder) ints(vs ...int) {
	for i, v := range vs {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.int(v)
	}
}

func (e *Encoder) end() { e.buf = append(e.buf, '\r', '\n') }

func (e *Encoder) mm(v float64) {
	e.buf = strconv.AppendFloat(e.buf, v, 'f', -1, 64)
	e.buf = append(e.buf, " mm"...)
}

// Size sets the label size: SIZE 76 mm, 130 mm.
func (e *Encoder) Size(widthMM, heightMM float64) {
	if e.err != nil {
		return
	}
	if widthMM <= 0 || heightMM <= 0 || widthMM > 1000 || heightMM > 10000 {
		e.fail("SIZE", "label size %g×%g mm out of range", widthMM, heightMM)
		return
	}
	e.cmd("SIZE ")
	e.mm(widthMM)
	e.buf = append(e.buf, ", "...)
	e.mm(heightMM)
	e.end()
}

// Gap sets the gap between labels: GAP 2 mm, 0 mm. Gap(0, 0) is continuous paper.
func (e *Encoder) Gap(gapMM, offsetMM float64) { e.gapLine("GAP", gapMM, offsetMM) }

// BLine sets the black-mark height instead of a gap: BLINE 3 mm, 0 mm.
func (e *Encoder) BLine(markMM, offsetMM float64) { e.gapLine("BLINE", markMM, offsetMM) }

func (e *Encoder) gapLine(name string, a, b float64) {
	if e.err != nil {
		return
	}
	if a < 0 || b < 0 || a > 100 || b > 100 {
		e.fail(name, "distance %g mm, %g mm out of range", a, b)
		return
	}
	e.cmd(name + " ")
	e.mm(a)
	e.buf = append(e.buf, ", "...)
	e.mm(b)
	e.end()
}

// Direction sets the print direction (0 or 1) and mirror image.
func (e *Encoder) Direction(dir int, mirror bool) {
	if e.err != nil {
		return
	}
	if dir != 0 && dir != 1 {
		e.fail("DIRECTION", "direction %d is not 0 or 1", dir)
		return
	}
	m := 0
	if mirror {
		m = 1
	}
	e.cmd("DIRECTION ")
	e.ints(dir, m)
	e.end()
}

// Reference sets the origin in dots.
func (e *Encoder) Reference(x, y int) { e.simple("REFERENCE ", x, y) }

// Density sets the print darkness 0–15.
func (e *Encoder) Density(d int) {
	if d < 0 || d > 15 {
		e.fail("DENSITY", "darkness %d is not 0–15", d)
		return
	}
	e.simple("DENSITY ", d)
}

// Speed sets the print speed in inches per second (1–18; 1.5 allowed).
func (e *Encoder) Speed(ips float64) {
	if e.err != nil {
		return
	}
	if ips < 1 || ips > 18 {
		e.fail("SPEED", "speed %g is not 1–18 inches/s", ips)
		return
	}
	e.cmd("SPEED ")
	e.buf = strconv.AppendFloat(e.buf, ips, 'f', -1, 64)
	e.end()
}

// CodePage selects the code page of the Latin fonts, e.g. "437", "1252", "UTF-8".
func (e *Encoder) CodePage(cp string) {
	if e.err != nil {
		return
	}
	if cp == "" || len(cp) > 16 || strings.ContainsFunc(cp, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '-')
	}) {
		e.fail("CODEPAGE", "code page %q is not a code page name", cp)
		return
	}
	e.cmd("CODEPAGE " + cp)
	e.end()
}

// Cls clears the image buffer: CLS.
func (e *Encoder) Cls() {
	if e.err == nil {
		e.cmd("CLS")
		e.end()
	}
}

func (e *Encoder) simple(name string, vs ...int) {
	if e.err != nil {
		return
	}
	for _, v := range vs {
		if v < 0 || v > 65535 {
			e.fail(strings.TrimSpace(name), "value %d out of range", v)
			return
		}
	}
	e.cmd(name)
	e.ints(vs...)
	e.end()
}

// quoteASCII appends s as a TSPL string of printable ASCII.
func (e *Encoder) quoteASCII(op, s string) {
	e.buf = append(e.buf, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			e.buf = append(e.buf, `\["]`...)
		case c >= 0x20 && c < 0x7F:
			e.buf = append(e.buf, c)
		default:
			e.fail(op, "byte 0x%02X at %d is not printable ASCII", c, i)
			return
		}
	}
	e.buf = append(e.buf, '"')
}

// quoteText appends s as a TSPL string for font, GB-encoding Chinese for
// the TSS fonts.
func (e *Encoder) quoteText(op, font, s string) {
	if !strings.HasPrefix(font, "TSS") {
		e.quoteASCII(op, s)
		return
	}
	start := len(e.buf)
	e.buf = append(e.buf, '"')
	for i, r := range s {
		if r == '"' {
			e.buf = append(e.buf, `\["]`...)
			continue
		}
		var ok bool
		if e.buf, ok = printer.AppendRune(e.buf, r, e.Charset); !ok {
			e.buf = e.buf[:start]
			if e.err == nil {
				e.err = fmt.Errorf("tspl: %s: %w", op, &printer.UnprintableError{Rune: r, Offset: i})
			}
			return
		}
	}
	e.buf = append(e.buf, '"')
}

func checkFont(font string) bool {
	if font == "" || len(font) > 32 {
		return false
	}
	for i := 0; i < len(font); i++ {
		c := font[i]
		if c < 0x21 || c > 0x7E || c == '"' {
			return false
		}
	}
	return true
}

func checkMul(m int) bool { return m >= 1 && m <= 10 }

func checkRot(r int) bool { return r == 0 || r == 90 || r == 180 || r == 270 }

// Text prints one line of text in a built-in font:
// TEXT x,y,"font",rotation,x-mul,y-mul,"content".
func (e *Encoder) Text(x, y int, font string, rotation, xmul, ymul int, s string) {
	if e.err != nil {
		return
	}
	switch {
	case !checkFont(font):
		e.fail("TEXT", "font name %q", font)
	case !checkRot(rotation) || !checkMul(xmul) || !checkMul(ymul) || x < 0 || y < 0:
		e.fail("TEXT", "position %d,%d rotation %d size %d×%d", x, y, rotation, xmul, ymul)
	}
	if e.err != nil {
		return
	}
	start := len(e.buf)
	e.cmd("TEXT ")
	e.ints(x, y)
	e.buf = append(e.buf, ",\""...)
	e.cmd(font)
	e.buf = append(e.buf, "\","...)
	e.ints(rotation, xmul, ymul)
	e.buf = append(e.buf, ',')
	e.quoteText("TEXT", font, s)
	if e.err != nil {
		e.buf = e.buf[:start]
		return
	}
	e.end()
}

// Block prints text wrapped inside a box of width×height dots (align 0
// default, 1 left, 2 centre, 3 right; space is extra line spacing in dots):
// BLOCK x,y,width,height,"font",rotation,x-mul,y-mul,space,align,"content".
func (e *Encoder) Block(x, y, width, height int, font string, rotation, xmul, ymul, space, align int, s string) {
	if e.err != nil {
		return
	}
	switch {
	case !checkFont(font):
		e.fail("BLOCK", "font name %q", font)
	case !checkRot(rotation) || !checkMul(xmul) || !checkMul(ymul) || x < 0 || y < 0 || width <= 0 || height <= 0 || space < 0 || align < 0 || align > 3:
		e.fail("BLOCK", "box %d,%d %d×%d rotation %d size %d×%d space %d align %d", x, y, width, height, rotation, xmul, ymul, space, align)
	}
	if e.err != nil {
		return
	}
	start := len(e.buf)
	e.cmd("BLOCK ")
	e.ints(x, y, width, height)
	e.buf = append(e.buf, ",\""...)
	e.cmd(font)
	e.buf = append(e.buf, "\","...)
	e.ints(rotation, xmul, ymul, space, align)
	e.buf = append(e.buf, ',')
	e.quoteText("BLOCK", font, s)
	if e.err != nil {
		e.buf = e.buf[:start]
		return
	}
	e.end()
}

// Barcode128 prints a Code 128 barcode (the printer picks the code sets):
// BARCODE x,y,"128",height,human-readable,rotation,narrow,wide,"data".
func (e *Encoder) Barcode128(x, y, height int, hri HRI, rotation, narrow, wide int, data string) {
	if e.err != nil {
		return
	}
	switch {
	case data == "" || len(data) > 255:
		e.fail("BARCODE", "data length %d is not 1–255", len(data))
	case x < 0 || y < 0 || height < 1 || height > 6000 || hri < HRINone || hri > HRIRight || !checkRot(rotation) || narrow < 1 || narrow > 10 || wide < 1 || wide > 10:
		e.fail("BARCODE", "position %d,%d height %d readable %d rotation %d narrow %d wide %d", x, y, height, hri, rotation, narrow, wide)
	}
	if e.err != nil {
		return
	}
	start := len(e.buf)
	e.cmd("BARCODE ")
	e.ints(x, y)
	e.buf = append(e.buf, `,"128",`...)
	e.ints(height, int(hri), rotation, narrow, wide)
	e.buf = append(e.buf, ',')
	e.quoteASCII("BARCODE", data)
	if e.err != nil {
		e.buf = e.buf[:start]
		return
	}
	e.end()
}

// QRCode prints a QR code in automatic mode with error correction level
// ecc ('L', 'M', 'Q' or 'H') and cell width in dots (1–10):
// QRCODE x,y,ecc,cell,A,rotation,"data". Data is sent as UTF-8 bytes.
func (e *Encoder) QRCode(x, y int, ecc byte, cell, rotation int, data string) {
	if e.err != nil {
		return
	}
	switch {
	case data == "" || len(data) > 2048:
		e.fail("QRCODE", "data length %d is not 1–2048", len(data))
	case !strings.ContainsRune("LMQH", rune(ecc)) || ecc == 0:
		e.fail("QRCODE", "error level %q is not L, M, Q or H", ecc)
	case x < 0 || y < 0 || cell < 1 || cell > 10 || !checkRot(rotation):
		e.fail("QRCODE", "position %d,%d cell %d rotation %d", x, y, cell, rotation)
	case strings.ContainsAny(data, "\r\n\x00"):
		e.fail("QRCODE", "data holds a line break or NUL")
	}
	if e.err != nil {
		return
	}
	e.cmd("QRCODE ")
	e.ints(x, y)
	e.buf = append(e.buf, ',', ecc, ',')
	e.int(cell)
	e.buf = append(e.buf, ",A,"...)
	e.int(rotation)
	e.buf = append(e.buf, ",\""...)
	e.buf = append(e.buf, strings.ReplaceAll(data, `"`, `\["]`)...)
	e.buf = append(e.buf, '"')
	e.end()
}

// Bar draws a filled black rectangle: BAR x,y,width,height.
func (e *Encoder) Bar(x, y, w, h int) {
	if w <= 0 || h <= 0 {
		e.fail("BAR", "size %d×%d", w, h)
		return
	}
	e.simple("BAR ", x, y, w, h)
}

// Reverse inverts a region (black becomes white and white black), for
// white text on black: REVERSE x,y,width,height.
func (e *Encoder) Reverse(x, y, w, h int) {
	if w <= 0 || h <= 0 {
		e.fail("REVERSE", "size %d×%d", w, h)
		return
	}
	e.simple("REVERSE ", x, y, w, h)
}

// Box draws a rectangle outline: BOX x,y,x-end,y-end,thickness.
func (e *Encoder) Box(x, y, xEnd, yEnd, thickness int) {
	if xEnd <= x || yEnd <= y || thickness <= 0 {
		e.fail("BOX", "box %d,%d–%d,%d thickness %d", x, y, xEnd, yEnd, thickness)
		return
	}
	e.simple("BOX ", x, y, xEnd, yEnd, thickness)
}

// Bitmap draws an image whose data has 1 = black (as drivers/label and
// ESC/POS raster use); it is inverted on the way out because TSPL's
// BITMAP takes 0 = black. Rows are widthBytes long, MSB leftmost.
func (e *Encoder) Bitmap(x, y, widthBytes, height int, ink []byte) {
	e.bitmap(x, y, widthBytes, height, ink, true)
}

// BitmapRaw draws an image already in TSPL's convention (0 = black).
func (e *Encoder) BitmapRaw(x, y, widthBytes, height int, data []byte) {
	e.bitmap(x, y, widthBytes, height, data, false)
}

func (e *Encoder) bitmap(x, y, wb, h int, data []byte, invert bool) {
	if e.err != nil {
		return
	}
	if x < 0 || y < 0 || wb <= 0 || h <= 0 || wb > 65535 || h > 65535 || len(data) != wb*h {
		e.fail("BITMAP", "image %d bytes×%d rows at %d,%d with %d bytes of data", wb, h, x, y, len(data))
		return
	}
	e.cmd("BITMAP ")
	e.ints(x, y, wb, h, 0)
	e.buf = append(e.buf, ',')
	if invert {
		for _, b := range data {
			e.buf = append(e.buf, ^b)
		}
	} else {
		e.buf = append(e.buf, data...)
	}
	e.end()
}

// Print prints the buffer sets times (each set with copies copies):
// PRINT sets[,copies].
func (e *Encoder) Print(sets, copies int) {
	if sets < 1 || copies < 1 {
		e.fail("PRINT", "sets %d copies %d", sets, copies)
		return
	}
	if copies == 1 {
		e.simple("PRINT ", sets)
		return
	}
	e.simple("PRINT ", sets, copies)
}
