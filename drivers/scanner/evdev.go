package scanner

import (
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
)

// Linux input event types and the values of EV_KEY events.
const (
	evKey        = 0x01
	keyRelease   = 0
	keyPress     = 1
	keyAutoRepet = 2
)

// EventSize is the size of a Linux struct input_event for this build: a
// struct timeval (two longs) followed by type, code and value.
const EventSize = 2*strconv.IntSize/8 + 8

// evdevModBits maps modifier key codes to boot-report modifier bits.
var evdevModBits = map[uint16]uint8{
	29: modLCtrl, 42: modLShift, 56: modLAlt, 125: 0x08,
	97: modRCtrl, 54: modRShift, 100: modRAlt, 126: 0x80,
}

// hidToEvdev is the kernel's HID usage → input key code table
// (drivers/hid/hid-input.c, hid_keyboard) for the keys a scanner types.
var hidToEvdev = map[uint8]uint16{
	0x04: 30, 0x05: 48, 0x06: 46, 0x07: 32, 0x08: 18, 0x09: 33, 0x0A: 34, 0x0B: 35,
	0x0C: 23, 0x0D: 36, 0x0E: 37, 0x0F: 38, 0x10: 50, 0x11: 49, 0x12: 24, 0x13: 25,
	0x14: 16, 0x15: 19, 0x16: 31, 0x17: 20, 0x18: 22, 0x19: 47, 0x1A: 17, 0x1B: 45,
	0x1C: 21, 0x1D: 44, 0x1E: 2, 0x1F: 3, 0x20: 4, 0x21: 5, 0x22: 6, 0x23: 7,
	0x24: 8, 0x25: 9, 0x26: 10, 0x27: 11, 0x28: 28, 0x2B: 15, 0x2C: 57,
	0x2D: 12, 0x2E: 13, 0x2F: 26, 0x30: 27, 0x31: 43, 0x33: 39, 0x34: 40,
	0x35: 41, 0x36: 51, 0x37: 52, 0x38: 53,
	0x54: 98, 0x55: 55, 0x56: 74, 0x57: 78, 0x58: 96, 0x59: 79, 0x5A: 80,
	0x5B: 81, 0x5C: 75, 0x5D: 76, 0x5E: 77, 0x5F: 71, 0x60: 72, 0x61: 73,
	0x62: 82, 0x63: 83, 0x64: 86,
}

// evdevToHID is the inverse of hidToEvdev, so evdev uses the same keymaps.
var evdevToHID = func() map[uint16]uint8 {
	m := make(map[uint16]uint8, len(hidToEvdev))
	for u, k := range hidToEvdev {
		m[k] = u
	}
	return m
}()

// EvdevDecoder decodes Linux input_event records from a keyboard-emulating
// scanner's /dev/input/eventN into frames, with the same layouts and rules as
// KeyboardDecoder (Enter and Tab end a code, Ctrl+] is GS, Alt+keypad codes).
type EvdevDecoder struct {
	// Size is the input_event size; default EventSize. 24 on 64-bit
	// systems, 16 on 32-bit ones.
	Size int

	ks      keyState
	partial []byte
}

// NewEvdevDecoder returns a decoder for the given layout (nil: US).
func NewEvdevDecoder(l *Layout) *EvdevDecoder {
	return &EvdevDecoder{ks: newKeyState(l)}
}

// Decode implements ReportDecoder. b holds whole input_event records; a
// trailing partial record is kept for the next call.
func (d *EvdevDecoder) Decode(b []byte) ([]Frame, error) {
	if d.ks.layout == nil {
		d.ks = newKeyState(nil)
	}
	size := d.Size
	if size <= 0 {
		size = EventSize
	}
	if size < 16 {
		return nil, fmt.Errorf("input event size %d is too small", size)
	}
	if len(d.partial) > 0 {
		b = append(d.partial, b...)
		d.partial = nil
	}
	var out []Frame
	for ; len(b) >= size; b = b[size:] {
		ev := b[size-8 : size]
		typ := binary.LittleEndian.Uint16(ev[0:])
		code := binary.LittleEndian.Uint16(ev[2:])
		val := int32(binary.LittleEndian.Uint32(ev[4:]))
		if typ != evKey {
			continue
		}
		if bit, ok := evdevModBits[code]; ok {
			m := d.ks.mods
			switch val {
			case keyPress:
				m |= bit
			case keyRelease:
				m &^= bit
			}
			d.ks.setMods(m)
			continue
		}
		if val != keyPress {
			continue // releases and auto-repeat
		}
		u, ok := evdevToHID[code]
		if !ok {
			d.ks.fail(fmt.Sprintf("key code %d is not a key a scanner types", code))
			continue
		}
		out = d.ks.press(u, out)
	}
	if len(b) > 0 {
		d.partial = append([]byte(nil), b...)
	}
	return out, nil
}

// NewEvdevReader returns a HIDReader that decodes input events from r (an
// opened, preferably grabbed, /dev/input/eventN; see OpenEvdev).
func NewEvdevReader(r io.Reader, l *Layout, opts Options, sink Sink) (*HIDReader, error) {
	h, err := NewHIDReader(r, NewEvdevDecoder(l), opts, sink)
	if err != nil {
		return nil, err
	}
	h.ReportSize = 64 * EventSize
	return h, nil
}
