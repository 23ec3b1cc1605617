package printer

import (
	"errors"
	"fmt"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// Charset says which Chinese characters a printer's built-in font can show.
type Charset int

const (
	// GBK accepts every character with a 2-byte GB18030 code (the GBK
	// repertoire, about 21,000 characters, traditional ones included).
	GBK Charset = iota
	// GB2312 accepts only the 6,763 GB2312 characters and symbols (code
	// bytes 0xA1–0xF7, 0xA1–0xFE), for fonts such as TSC's TSS24.BF2 on
	// older firmware.
	GB2312
)

func (c Charset) String() string {
	if c == GB2312 {
		return "GB2312"
	}
	return "GBK"
}

// ErrUnprintable is matched (errors.Is) by every *UnprintableError.
var ErrUnprintable = errors.New("text cannot be printed with the printer's built-in font")

// UnprintableError names the first character that has no code in the
// printer's built-in font.
type UnprintableError struct {
	Rune   rune
	Offset int // byte offset in the text
}

func (e *UnprintableError) Error() string {
	return fmt.Sprintf("character %q (U+%04X) at byte %d has no 2-byte GB18030 code: the printer's built-in font cannot print it", e.Rune, e.Rune, e.Offset)
}

// Is makes errors.Is(err, ErrUnprintable) true.
func (e *UnprintableError) Is(target error) bool { return target == ErrUnprintable }

var (
	gbOnce  sync.Once
	gbTable []uint16 // BMP rune -> 2-byte code, 0 when none
)

// buildTable asks golang.org/x/text's GB18030 encoder for the code of every
// BMP character once; a 4-byte answer (or an error) leaves 0.
func buildTable() {
	gbTable = make([]uint16, 0x10000)
	enc := simplifiedchinese.GB18030.NewEncoder()
	var src [4]byte
	var dst [8]byte
	for r := rune(0x80); r < 0x10000; r++ {
		if r >= 0xD800 && r <= 0xDFFF || r >= 0xE000 && r <= 0xF8FF {
			continue // surrogates; private use maps to user areas no font has
		}
		n := utf8.EncodeRune(src[:], r)
		enc.Reset()
		nd, _, err := enc.Transform(dst[:], src[:n], true)
		if err != nil || nd != 2 {
			continue
		}
		gbTable[r] = uint16(dst[0])<<8 | uint16(dst[1])
	}
}

// code returns the printer bytes for r: one byte for printable ASCII, two
// for a character with a 2-byte code allowed by cs, or n == 0.
func code(r rune, cs Charset) (b0, b1 byte, n int) {
	if r >= 0x20 && r < 0x7F {
		return byte(r), 0, 1
	}
	if r < 0x80 || r > 0xFFFF {
		return 0, 0, 0
	}
	gbOnce.Do(buildTable)
	c := gbTable[r]
	if c == 0 {
		return 0, 0, 0
	}
	b0, b1 = byte(c>>8), byte(c)
	if cs == GB2312 && (b0 < 0xA1 || b0 > 0xF7 || b1 < 0xA1 || b1 > 0xFE) {
		return 0, 0, 0
	}
	return b0, b1, 2
}

// Printable reports whether the built-in font can print r: printable ASCII
// or a character with a 2-byte GB18030 code in cs.
func Printable(r rune, cs Charset) bool {
	_, _, n := code(r, cs)
	return n > 0
}

// AppendGB appends s encoded for the printer's built-in Chinese font
// (ASCII as is, others as 2-byte GB18030 codes) to dst. A character
// without such a code (control characters, emoji, rare characters such as
// 𠮷 whose GB18030 code is 4 bytes) gives an *UnprintableError and dst
// unchanged: never bytes that would desynchronise the printer.
func AppendGB(dst []byte, s string, cs Charset) ([]byte, error) {
	start := len(dst)
	for i, r := range s {
		b0, b1, n := code(r, cs)
		switch n {
		case 1:
			dst = append(dst, b0)
		case 2:
			dst = append(dst, b0, b1)
		default:
			return dst[:start], &UnprintableError{Rune: r, Offset: i}
		}
	}
	return dst, nil
}

// Run is a piece of text that is either all printable by the built-in
// font or all not.
type Run struct {
	Text      string
	Printable bool
}

// SplitRuns cuts s into alternating printable and unprintable runs.
func SplitRuns(s string, cs Charset) []Run {
	var runs []Run
	start, cur := 0, true
	for i, r := range s {
		p := Printable(r, cs)
		if i == 0 {
			cur = p
			continue
		}
		if p != cur {
			runs = append(runs, Run{Text: s[start:i], Printable: cur})
			start, cur = i, p
		}
	}
	if start < len(s) {
		runs = append(runs, Run{Text: s[start:], Printable: cur})
	}
	return runs
}

// AppendRune appends the printer code of r to dst; ok is false (and dst
// unchanged) when the built-in font cannot print r.
func AppendRune(dst []byte, r rune, cs Charset) (_ []byte, ok bool) {
	b0, b1, n := code(r, cs)
	switch n {
	case 1:
		return append(dst, b0), true
	case 2:
		return append(dst, b0, b1), true
	}
	return dst, false
}
