// Package escpos encodes ESC/POS commands for receipt printers and
// label-capable ESC/POS printers, and decodes what they send back: the
// real-time status (DLE EOT), automatic status back (GS a) and the
// process-id response (GS ( H) that confirms a job was physically printed.
//
// The Encoder is pure: it appends commands to a buffer and only ever writes
// them to an io.Writer. Chinese text is sent in Chinese mode (FS &) as
// 2-byte GB18030 codes; text the built-in font cannot show is refused with
// printer.ErrUnprintable so the caller can print it as a raster image.
package escpos

import (
	"errors"
	"fmt"
	"io"

	"github.com/dockhand/dockhand/drivers/printer"
)

// Control bytes.
const (
	ESC = 0x1B
	GS  = 0x1D
	FS  = 0x1C
	DLE = 0x10
	EOT = 0x04
	LF  = 0x0A
)

// Align is a justification for ESC a.
type Align byte

// Justifications.
const (
	Left Align = iota
	Center
	Right
)

// HRI is the position of the human-readable line of a barcode (GS H).
type HRI byte

// HRI positions.
const (
	HRINone HRI = iota
	HRIAbove
	HRIBelow
	HRIBoth
)

// QR error correction levels for GS ( k fn 69.
type QRLevel byte

// QR error correction levels.
const (
	QRLevelL QRLevel = 48
	QRLevelM QRLevel = 49
	QRLevelQ QRLevel = 50
	QRLevelH QRLevel = 51
)

// ErrBadArgument is matched by errors about a command's arguments.
var ErrBadArgument = errors.New("escpos: bad command argument")

// Encoder builds an ESC/POS byte stream. The first error stops further
// output and is returned by Err and WriteTo.
type Encoder struct {
	buf []byte
	err error
	// Charset is what the built-in Chinese font can show (default printer.GBK).
	Charset printer.Charset
}

// NewEncoder returns an empty Encoder.
func NewEncoder() *Encoder { return &Encoder{buf: make([]byte, 0, 2048)} }

// Reset empties the encoder for reuse.
func (e *Encoder) Reset() { e.buf, e.err = e.buf[:0], nil }

// Err returns the first error met.
func (e *Encoder) Err() error { return e.err }

// Bytes returns the stream so far (valid until the next call).
func (e *Encoder) Bytes() []byte { return e.buf }

// WriteTo writes the stream to w.
func (e *Encoder) WriteTo(w io.Writer) (int64, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := w.Write(e.buf)
	if err != nil {
		return int64(n), fmt.Errorf("escpos: write stream: %w", err)
	}
	return int64(n), nil
}

func (e *Encoder) fail(op, format string, args ...any) {
	if e.err == nil {
		e.err = fmt.Errorf("escpos: %s: %s: %w", op, fmt.Sprintf(format, args...), ErrBadArgument)
	}
}

func (e *Encoder) raw(b ...byte) {
	if e.err == nil {
		e.buf = append(e.buf, b...)
	}
}

// Init resets the printer: ESC @.
func (e *Encoder) Init() { e.raw(ESC, '@') }

// ChineseMode turns the 2-byte Chinese character mode on (FS &) or off (FS .).
func (e *Encoder) ChineseMode(on bool) {
	if on {
		e.raw(FS, '&')
	} else {
		e.raw(FS, '.')
	}
}

// Emphasis turns bold on or off: ESC E n.
func (e *Encoder) Emphasis(on bool) {
	var n byte
	if on {
		n = 1
	}
	e.raw(ESC, 'E', n)
}

// Reverse turns white-on-black printing on or off: GS B n.
func (e *Encoder) Reverse(on bool) {
	var n byte
	if on {
		n = 1
	}
	e.raw(GS, 'B', n)
}

// Size sets the character magnification, 1–8 each way: GS ! n.
func (e *Encoder) Size(width, height int) {
	if width < 1 || width > 8 || height < 1 || height > 8 {
		e.fail("GS !", "size %d×%d is not 1–8", width, height)
		return
	}
	e.raw(GS, '!', byte((width-1)<<4|(height-1)))
}

// Justify sets the alignment: ESC a n.
func (e *Encoder) Justify(a Align) {
	if a > Right {
		e.fail("ESC a", "alignment %d", a)
		return
	}
	e.raw(ESC, 'a', byte(a))
}

// LineSpacing sets the line spacing in motion units: ESC 3 n.
func (e *Encoder) LineSpacing(n int) {
	if n < 0 || n > 255 {
		e.fail("ESC 3", "line spacing %d is not 0–255", n)
		return
	}
	e.raw(ESC, '3', byte(n))
}

// DefaultLineSpacing restores the default line spacing: ESC 2.
func (e *Encoder) DefaultLineSpacing() { e.raw(ESC, '2') }

// MotionUnits sets the horizontal and vertical motion units to 1/x and
// 1/y inch: GS P x y.
func (e *Encoder) MotionUnits(x, y int) {
	if x < 0 || x > 255 || y < 0 || y > 255 {
		e.fail("GS P", "units 1/%d, 1/%d inch", x, y)
		return
	}
	e.raw(GS, 'P', byte(x), byte(y))
}

// Position sets the absolute horizontal print position in motion units
// from the line start: ESC $ nL nH.
func (e *Encoder) Position(x int) {
	if x < 0 || x > 65535 {
		e.fail("ESC $", "position %d", x)
		return
	}
	e.raw(ESC, '$', byte(x), byte(x>>8))
}

// Text appends printable text: ASCII as is, Chinese as 2-byte GB18030
// codes (Chinese mode must be on). Control characters, emoji and
// characters without a 2-byte code give printer.ErrUnprintable.
func (e *Encoder) Text(s string) {
	if e.err != nil {
		return
	}
	var err error
	if e.buf, err = printer.AppendGB(e.buf, s, e.Charset); err != nil {
		e.err = fmt.Errorf("escpos: text: %w", err)
	}
}

// Newline prints the line buffer and feeds one line: LF.
func (e *Encoder) Newline() { e.raw(LF) }

// Feed prints and feeds n lines: ESC d n.
func (e *Encoder) Feed(lines int) {
	if lines < 0 || lines > 255 {
		e.fail("ESC d", "%d lines", lines)
		return
	}
	e.raw(ESC, 'd', byte(lines))
}

// FeedDots prints and feeds n motion units (ESC J, repeated past 255).
func (e *Encoder) FeedDots(n int) {
	if n < 0 {
		e.fail("ESC J", "feed %d", n)
		return
	}
	for n > 255 {
		e.raw(ESC, 'J', 255)
		n -= 255
	}
	if n > 0 {
		e.raw(ESC, 'J', byte(n))
	}
}

// Cut cuts the paper where it is: GS V 0 (full) or GS V 1 (partial).
func (e *Encoder) Cut(partial bool) {
	var m byte
	if partial {
		m = 1
	}
	e.raw(GS, 'V', m)
}

// FeedCut feeds to the cutter plus n motion units and cuts: GS V 65/66 n.
func (e *Encoder) FeedCut(partial bool, n int) {
	if n < 0 || n > 255 {
		e.fail("GS V", "feed %d", n)
		return
	}
	m := byte(65)
	if partial {
		m = 66
	}
	e.raw(GS, 'V', m, byte(n))
}

// NextLabel feeds a label-mode printer to the start of the next label: GS FF.
func (e *Encoder) NextLabel() { e.raw(GS, 0x0C) }

// Raster prints a raster image: GS v 0 m xL xH yL yH data, width in bytes,
// height in dots, bit 1 = black, MSB leftmost.
func (e *Encoder) Raster(widthBytes, height int, ink []byte) {
	if widthBytes < 1 || widthBytes > 65535 || height < 1 || height > 65535 || len(ink) != widthBytes*height {
		e.fail("GS v 0", "image %d bytes×%d dots with %d bytes of data", widthBytes, height, len(ink))
		return
	}
	e.raw(GS, 'v', '0', 0, byte(widthBytes), byte(widthBytes>>8), byte(height), byte(height>>8))
	e.raw(ink...)
}

// BarcodeHeight sets the barcode height in dots: GS h n.
func (e *Encoder) BarcodeHeight(dots int) {
	if dots < 1 || dots > 255 {
		e.fail("GS h", "height %d is not 1–255", dots)
		return
	}
	e.raw(GS, 'h', byte(dots))
}

// BarcodeWidth sets the module width in dots, 2–6: GS w n.
func (e *Encoder) BarcodeWidth(dots int) {
	if dots < 1 || dots > 6 {
		e.fail("GS w", "module width %d is not 1–6", dots)
		return
	}
	e.raw(GS, 'w', byte(dots))
}

// BarcodeHRI sets where the human-readable line is printed: GS H n.
func (e *Encoder) BarcodeHRI(p HRI) {
	if p > HRIBoth {
		e.fail("GS H", "position %d", p)
		return
	}
	e.raw(GS, 'H', byte(p))
}

// Code128 prints a Code 128 barcode with GS k m=73, choosing code sets
// with Code128Data.
func (e *Encoder) Code128(data string) {
	if e.err != nil {
		return
	}
	d, err := Code128Data(data)
	if err != nil {
		e.err = err
		return
	}
	e.raw(GS, 'k', 73, byte(len(d)))
	e.raw(d...)
}

// QR prints a QR code: GS ( k functions 165 (model 2), 167 (module size
// 1–16 dots), 169 (error level), 180 (store) and 181 (print).
func (e *Encoder) QR(data []byte, size int, level QRLevel) {
	switch {
	case len(data) == 0 || len(data) > 7089:
		e.fail("GS ( k", "QR data length %d is not 1–7089", len(data))
	case size < 1 || size > 16:
		e.fail("GS ( k", "QR module size %d is not 1–16", size)
	case level < QRLevelL || level > QRLevelH:
		e.fail("GS ( k", "QR level %d", level)
	}
	if e.err != nil {
		return
	}
	e.raw(GS, '(', 'k', 4, 0, '1', 'A', '2', 0)
	e.raw(GS, '(', 'k', 3, 0, '1', 'C', byte(size))
	e.raw(GS, '(', 'k', 3, 0, '1', 'E', byte(level))
	n := len(data) + 3
	e.raw(GS, '(', 'k', byte(n), byte(n>>8), '1', 'P', '0')
	e.raw(data...)
	e.raw(GS, '(', 'k', 3, 0, '1', 'Q', '0')
}

// Code128Data returns the GS k m=73 data for s (ASCII 0x00–0x7F): code set
// C for runs of digits (at least 4 at the start or end, 6 in the middle; an
// odd run leaves its first digit in the current set), otherwise B (A for
// control characters). The {A, {B, {C prefixes are part of the data and
// count in n; a literal { is sent as {{; in code set C each digit pair is
// one byte 0–99.
func Code128Data(s string) ([]byte, error) {
	if len(s) == 0 {
		return nil, fmt.Errorf("escpos: code 128: empty data: %w", ErrBadArgument)
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return nil, fmt.Errorf("escpos: code 128: byte 0x%02X at %d is not ASCII: %w", s[i], i, ErrBadArgument)
		}
	}
	digits := func(i int) int {
		n := 0
		for i+n < len(s) && s[i+n] >= '0' && s[i+n] <= '9' {
			n++
		}
		return n
	}
	out := make([]byte, 0, len(s)+4)
	var set byte
	if r := digits(0); r >= 4 || r == len(s) && r == 2 {
		set = 'C'
	} else if s[0] < 0x20 {
		set = 'A'
	} else {
		set = 'B'
	}
	out = append(out, '{', set)
	for i := 0; i < len(s); {
		if set == 'C' {
			if digits(i) >= 2 {
				out = append(out, (s[i]-'0')*10+s[i+1]-'0')
				i += 2
				continue
			}
			set = 'B'
			if s[i] < 0x20 {
				set = 'A'
			}
			out = append(out, '{', set)
			continue
		}
		if r := digits(i); r >= 6 || r >= 4 && i+r == len(s) {
			if r%2 == 1 {
				out = append(out, s[i])
				i++
			}
			set = 'C'
			out = append(out, '{', 'C')
			continue
		}
		c := s[i]
		switch {
		case set == 'B' && c < 0x20:
			set = 'A'
			out = append(out, '{', 'A')
		case set == 'A' && c >= 0x60:
			set = 'B'
			out = append(out, '{', 'B')
		}
		out = append(out, c)
		if c == '{' {
			out = append(out, '{')
		}
		i++
	}
	if len(out) > 255 {
		return nil, fmt.Errorf("escpos: code 128: %d data bytes exceed 255: %w", len(out), ErrBadArgument)
	}
	return out, nil
}
