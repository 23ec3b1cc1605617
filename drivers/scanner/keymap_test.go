package scanner

import (
	"context"
	"encoding/binary"
	"testing"
)

// reachable returns every character a layout can type with no modifier,
// Shift or AltGr.
func reachable(l *Layout) map[rune]bool {
	m := map[rune]bool{}
	for u := 0; u < 256; u++ {
		for _, mods := range []uint8{0, modLShift, modRAlt} {
			if r := l.char(uint8(u), mods); r != 0 {
				m[r] = true
			}
		}
	}
	return m
}

func TestLayoutsCoverBarcodeCharacters(t *testing.T) {
	// Code 128 (code set B) can hold any printable ASCII character; the
	// US layout must type all of them.
	us := reachable(LayoutUS)
	for r := rune(0x20); r < 0x7F; r++ {
		if !us[r] {
			t.Errorf("us layout cannot type %q", r)
		}
	}
	// Code 39 and the characters of Chinese waybill numbers and
	// locations must be typable everywhere.
	for _, l := range []*Layout{LayoutDE, LayoutFR} {
		got := reachable(l)
		for _, r := range "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-. $/+%#@*:;_&()=!\"'?,<>[]{}|\\" {
			if !got[r] {
				t.Errorf("%s layout cannot type %q", l.Name(), r)
			}
		}
	}
}

// TestEvdevMatchesHID types every mapped key through both paths, with and
// without Shift: evdev and HID reports must give the same characters.
func TestEvdevMatchesHID(t *testing.T) {
	seen := map[uint16]uint8{}
	for u, code := range hidToEvdev {
		if prev, dup := seen[code]; dup {
			t.Fatalf("evdev code %d maps back to both usage 0x%02X and 0x%02X", code, prev, u)
		}
		seen[code] = u
	}
	ev := func(code uint16, val int32) []byte {
		b := make([]byte, 24)
		binary.LittleEndian.PutUint16(b[16:], evKey)
		binary.LittleEndian.PutUint16(b[18:], code)
		binary.LittleEndian.PutUint32(b[20:], uint32(val))
		return b
	}
	for _, l := range []*Layout{LayoutUS, LayoutDE, LayoutFR} {
		for u, code := range hidToEvdev {
			if u == usageEnter || u == usageTab || u == usageKPEnter {
				continue
			}
			for _, shift := range []bool{false, true} {
				var mods uint8
				var evs []byte
				if shift {
					mods = modLShift
					evs = append(evs, ev(42, 1)...)
				}
				evs = append(evs, ev(code, 1)...)
				evs = append(evs, ev(code, 0)...)
				evs = append(evs, ev(28, 1)...)
				hd := NewKeyboardDecoder(l)
				hd.Decode([]byte{mods, 0, u, 0, 0, 0, 0, 0})
				hf, _ := hd.Decode([]byte{mods, 0, usageEnter, 0, 0, 0, 0, 0})
				ed := NewEvdevDecoder(l)
				ed.Size = 24
				ef, _ := ed.Decode(evs)
				if len(hf) != len(ef) || len(hf) == 1 && (string(hf[0].Data) != string(ef[0].Data) || hf[0].Problem != ef[0].Problem) {
					t.Errorf("%s usage 0x%02X shift=%v: HID %q, evdev %q", l.Name(), u, shift, hf, ef)
				}
			}
		}
	}
}

func TestSinkStopsOnCancel(t *testing.T) {
	ch := make(chan Scan) // nobody reads
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ChanSink(ch)(ctx, Scan{Code: "X"}) // must return, not block
}
