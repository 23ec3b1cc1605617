package tspl

import (
	"errors"
	"fmt"

	"github.com/dockhand/dockhand/drivers/printer"
)

// StatusQuery is the real-time status request <ESC>!?; the printer answers
// with one raw byte, even while it is busy or paused.
var StatusQuery = []byte{0x1B, '!', '?'}

// Status bits of the <ESC>!? answer.
const (
	BitHeadOpen  = 0x01
	BitPaperJam  = 0x02
	BitPaperOut  = 0x04
	BitRibbonOut = 0x08
	BitPaused    = 0x10
	BitPrinting  = 0x20
	BitCoverOpen = 0x40 // models with a cover sensor
	BitOther     = 0x80 // other error, e.g. temperature out of range
)

// ErrBadStatus is matched by errors about a status answer that is not one byte.
var ErrBadStatus = errors.New("tspl: printer status answer is not one byte")

// DecodeStatus decodes the one-byte answer to StatusQuery. Bits combine:
// 0x05 is "head open, paper out" with the state cover_open.
func DecodeStatus(answer []byte) (printer.Status, error) {
	if len(answer) != 1 {
		return printer.Status{}, fmt.Errorf("tspl: decode status: got %d bytes: %w", len(answer), ErrBadStatus)
	}
	return StatusOf(answer[0]), nil
}

// StatusOf decodes one status byte.
func StatusOf(b byte) printer.Status {
	var s printer.Builder
	if b&BitHeadOpen != 0 {
		s.Add(printer.CoverOpen, "head open")
	}
	if b&BitPaperJam != 0 {
		s.Add(printer.Error, "paper jam")
	}
	if b&BitPaperOut != 0 {
		s.Add(printer.PaperOut, "paper out")
	}
	if b&BitRibbonOut != 0 {
		s.Add(printer.RibbonOut, "ribbon out")
	}
	if b&BitPaused != 0 {
		s.Add(printer.Paused, "paused")
	}
	if b&BitPrinting != 0 {
		s.Add(printer.Printing, "printing")
	}
	if b&BitCoverOpen != 0 {
		s.Add(printer.CoverOpen, "cover open")
	}
	if b&BitOther != 0 {
		s.Add(printer.Error, "other error")
	}
	return s.Status()
}
