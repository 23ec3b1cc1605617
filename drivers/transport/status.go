package transport

import (
	"errors"
	"fmt"
	"strings"
)

// Printer conditions read from the device itself.
var (
	// ErrPaperOut: the printer reports that it is out of paper or labels.
	ErrPaperOut = errors.New("printer is out of paper")
	// ErrPrinterFault: the printer reports a fault (lid open, jam, ribbon).
	ErrPrinterFault = errors.New("printer reports a fault (lid open, paper jam or ribbon)")
	// ErrNotSelected: the printer is switched off-line (paused) on its panel.
	ErrNotSelected = errors.New("printer is paused (off-line on its panel)")
)

// Status is the IEEE 1284 port status byte, as returned by the usblp ioctl
// LPGETSTATUS (the printer class GET_PORT_STATUS request).
type Status byte

// Status bits.
const (
	StatusNoError    Status = 0x08 // nFault high: no error
	StatusSelected   Status = 0x10 // Select high: on-line
	StatusPaperEmpty Status = 0x20 // PError high: paper empty
)

// NoError reports that the printer signals no fault.
func (s Status) NoError() bool { return s&StatusNoError != 0 }

// Selected reports that the printer is on-line.
func (s Status) Selected() bool { return s&StatusSelected != 0 }

// PaperEmpty reports that the printer is out of paper.
func (s Status) PaperEmpty() bool { return s&StatusPaperEmpty != 0 }

// Err returns nil when the printer is ready, else an error wrapping
// [ErrPaperOut], [ErrPrinterFault] or [ErrNotSelected] (the most specific
// one first; paper out usually also raises the fault line).
func (s Status) Err() error {
	switch {
	case s.PaperEmpty():
		return fmt.Errorf("printer status 0x%02x: %w", byte(s), ErrPaperOut)
	case !s.NoError():
		return fmt.Errorf("printer status 0x%02x: %w", byte(s), ErrPrinterFault)
	case !s.Selected():
		return fmt.Errorf("printer status 0x%02x: %w", byte(s), ErrNotSelected)
	}
	return nil
}

// String lists the conditions, for logs: "0x18 ready", "0x38 paper-empty,...".
func (s Status) String() string {
	if s.Err() == nil {
		return fmt.Sprintf("0x%02x ready", byte(s))
	}
	var parts []string
	if s.PaperEmpty() {
		parts = append(parts, "paper-empty")
	}
	if !s.NoError() {
		parts = append(parts, "fault")
	}
	if !s.Selected() {
		parts = append(parts, "not-selected")
	}
	return fmt.Sprintf("0x%02x %s", byte(s), strings.Join(parts, ","))
}

// DecodeStatus reads a status reply of exactly one byte (the answer to a
// printer class GET_PORT_STATUS request).
func DecodeStatus(b []byte) (Status, error) {
	if len(b) != 1 {
		return 0, fmt.Errorf("decode printer status: want 1 byte, got %d", len(b))
	}
	return Status(b[0]), nil
}
