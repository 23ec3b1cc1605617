package scanner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

// Frame is one code assembled by a report decoder, before the shared frame
// rules (prefix/suffix, noise, length, dedup) are applied.
type Frame struct {
	Data      []byte
	Symbology string // set when the transport carries it apart from the data (HID POS)
	// Problem, when not empty, says why the frame is damaged (a key with no
	// character in the layout, a broken continuation); such a frame is
	// rejected and counted as noise.
	Problem string
}

// ReportDecoder turns HID input reports (or, for evdev, input_event bytes)
// into frames. Decode returns the frames that report completed; an error
// means the report itself was malformed and was skipped.
type ReportDecoder interface {
	Decode(report []byte) ([]Frame, error)
}

// maxAssembly bounds how much a decoder buffers for one code.
const maxAssembly = 64 << 10

// keyState turns key presses into characters and frames; shared by the
// HID keyboard and evdev decoders so both use one keymap.
type keyState struct {
	layout  *Layout
	mods    uint8
	buf     []byte
	problem string
	over    bool

	altActive bool // collecting an Alt+keypad code
	altCode   int
	altDigits int
}

func newKeyState(l *Layout) keyState {
	if l == nil {
		l = LayoutUS
	}
	return keyState{layout: l}
}

func (k *keyState) altHeld(m uint8) bool {
	if k.layout.altGr {
		return m&modLAlt != 0
	}
	return m&(modLAlt|modRAlt) != 0
}

// setMods records the modifier bits; releasing Alt ends an Alt+keypad code.
func (k *keyState) setMods(m uint8) {
	if k.altHeld(k.mods) && !k.altHeld(m) && k.altActive {
		switch {
		case k.altCode >= 1 && k.altCode < 128:
			k.appendByte(byte(k.altCode))
		default:
			k.fail(fmt.Sprintf("Alt+keypad code %d is not an ASCII character", k.altCode))
		}
		k.altActive, k.altCode, k.altDigits = false, 0, 0
	}
	k.mods = m
}

func (k *keyState) fail(reason string) {
	if k.problem == "" {
		k.problem = reason
	}
}

func (k *keyState) appendByte(b byte) {
	if len(k.buf) >= maxAssembly {
		k.over = true
		return
	}
	k.buf = append(k.buf, b)
}

// press handles a key going down. It appends a frame to out when the key
// ends one.
func (k *keyState) press(usage uint8, out []Frame) []Frame {
	switch {
	case usage >= usageModFirst:
		return out // modifiers come through setMods
	case usage == usageEnter || usage == usageKPEnter || usage == usageTab:
		return k.end(out)
	}
	if k.altHeld(k.mods) && (usage >= usageKP1 && usage <= usageKP0) {
		d := int(usage-usageKP1) + 1
		if usage == usageKP0 {
			d = 0
		}
		k.altActive = true
		if k.altDigits < 4 {
			k.altCode = k.altCode*10 + d
		}
		k.altDigits++
		return out
	}
	r := k.layout.char(usage, k.mods)
	if r == 0 {
		k.fail(fmt.Sprintf("key 0x%02X (modifiers 0x%02X) types nothing in keyboard layout %q; check the scanner's keyboard country setting", usage, k.mods, k.layout.name))
		return out
	}
	if k.mods&(modLCtrl|modRCtrl) != 0 {
		// Ctrl+key types a control character: Ctrl+] is GS (0x1D),
		// the GS1 separator in "Ctrl+ASCII" scanner mode.
		switch {
		case r >= '@' && r <= '_', r >= 'a' && r <= 'z':
			k.appendByte(byte(r) & 0x1F)
		default:
			k.fail(fmt.Sprintf("Ctrl with %q is not a control character", r))
		}
		return out
	}
	if r < utf8.RuneSelf {
		k.appendByte(byte(r))
	} else {
		for _, b := range []byte(string(r)) {
			k.appendByte(b)
		}
	}
	return out
}

// end closes the current frame.
func (k *keyState) end(out []Frame) []Frame {
	f := Frame{Data: k.buf, Problem: k.problem}
	if k.over {
		f.Problem = fmt.Sprintf("more than %d characters without Enter", maxAssembly)
	}
	k.buf, k.problem, k.over = nil, "", false
	if len(f.Data) == 0 && f.Problem == "" {
		return out
	}
	return append(out, f)
}

// KeyboardDecoder decodes USB HID boot keyboard input reports (8 bytes:
// modifier bits, reserved, six key usages) from a scanner in keyboard
// emulation mode. Enter, keypad Enter and Tab end a code. Ctrl+key gives
// control characters (Ctrl+] is GS) and Alt held with keypad digits gives
// the ASCII character with that decimal number (Alt+029 is GS).
type KeyboardDecoder struct {
	// ReportID, when not zero, is the report id byte that precedes the
	// 8 bytes on devices with numbered reports.
	ReportID byte

	ks   keyState
	prev [6]byte
}

// NewKeyboardDecoder returns a decoder for the given layout (nil: US).
func NewKeyboardDecoder(l *Layout) *KeyboardDecoder {
	return &KeyboardDecoder{ks: newKeyState(l)}
}

// Decode implements ReportDecoder.
func (d *KeyboardDecoder) Decode(r []byte) ([]Frame, error) {
	if d.ks.layout == nil {
		d.ks = newKeyState(nil)
	}
	if d.ReportID != 0 {
		if len(r) == 0 || r[0] != d.ReportID {
			return nil, nil // another report of a composite device
		}
		r = r[1:]
	}
	if len(r) < 8 {
		return nil, fmt.Errorf("keyboard report too short: %d bytes, want 8", len(r))
	}
	keys := r[2:8]
	for _, u := range keys {
		if u == usageRollOver || u == 0x02 || u == usageUndefined {
			// Phantom state: the report does not say which keys are down.
			return nil, nil
		}
	}
	var out []Frame
	d.ks.setMods(r[0])
	for _, u := range keys {
		if u == 0 || contains(d.prev[:], u) {
			continue
		}
		out = d.ks.press(u, out)
	}
	copy(d.prev[:], keys)
	return out, nil
}

func contains(s []byte, b byte) bool {
	for _, c := range s {
		if c == b {
			return true
		}
	}
	return false
}

// POSLayout describes where a HID POS scanner puts things in its input
// report. Offsets count from the first byte of the report as read from the
// device, including the report id byte.
type POSLayout struct {
	Name     string
	ReportID byte // reports with another id are ignored
	Size     int  // minimum report size
	LenAt    int  // byte holding the number of data bytes in this report
	AIMAt    int  // three bytes of AIM identifier ("]C1"); -1 when absent
	DataAt   int  // first data byte
	DataMax  int  // room for data bytes in one report
	MoreAt   int  // byte with the continuation flag; -1 when absent
	MoreMask byte // bit(s) set when more reports follow for the same code
}

// POSAIMFirst is the 64-byte HID POS input report used by Honeywell scanners
// in "USB HID POS" mode and by scanners that copy it: report id 0x02, data
// length, three AIM identifier bytes, up to 56 data bytes, a vendor
// symbology code at 61 and the continuation flag (bit 0) in the last byte.
var POSAIMFirst = POSLayout{
	Name: "aim-first", ReportID: 0x02, Size: 64,
	LenAt: 1, AIMAt: 2, DataAt: 5, DataMax: 56, MoreAt: 63, MoreMask: 0x01,
}

// POSLayoutByName returns a known HID POS report layout.
func POSLayoutByName(name string) (POSLayout, error) {
	switch name {
	case "", POSAIMFirst.Name:
		return POSAIMFirst, nil
	}
	return POSLayout{}, fmt.Errorf("unknown HID POS report layout %q: use %q", name, POSAIMFirst.Name)
}

func (l POSLayout) validate() error {
	end := l.DataAt + l.DataMax
	if l.Size <= 0 || l.LenAt < 0 || l.LenAt >= l.Size || l.DataAt < 0 || l.DataMax <= 0 || end > l.Size ||
		l.AIMAt >= 0 && l.AIMAt+3 > l.Size || l.MoreAt >= l.Size {
		return fmt.Errorf("HID POS layout %q: offsets do not fit a %d-byte report", l.Name, l.Size)
	}
	return nil
}

// POSDecoder decodes HID POS (usage page 0x8C) scanner reports.
type POSDecoder struct {
	layout POSLayout
	buf    []byte
	sym    string
	open   bool // a continuation is in progress
}

// NewPOSDecoder returns a decoder for reports in layout l.
func NewPOSDecoder(l POSLayout) (*POSDecoder, error) {
	if err := l.validate(); err != nil {
		return nil, err
	}
	return &POSDecoder{layout: l}, nil
}

// Decode implements ReportDecoder.
func (d *POSDecoder) Decode(r []byte) ([]Frame, error) {
	l := d.layout
	if len(r) == 0 || r[0] != l.ReportID {
		return nil, nil
	}
	if len(r) < l.Size {
		d.reset()
		return nil, fmt.Errorf("HID POS report too short: %d bytes, want %d", len(r), l.Size)
	}
	n := int(r[l.LenAt])
	if n > l.DataMax {
		d.reset()
		return nil, fmt.Errorf("HID POS report says %d data bytes, room for %d", n, l.DataMax)
	}
	if !d.open {
		d.sym = ""
		if l.AIMAt >= 0 {
			sym, _ := SplitAIM(r[l.AIMAt : l.AIMAt+3])
			d.sym = sym
		}
	}
	if len(d.buf)+n > maxAssembly {
		d.reset()
		return []Frame{{Problem: fmt.Sprintf("HID POS code longer than %d bytes", maxAssembly)}}, nil
	}
	d.buf = append(d.buf, r[l.DataAt:l.DataAt+n]...)
	if l.MoreAt >= 0 && r[l.MoreAt]&l.MoreMask != 0 {
		d.open = true
		return nil, nil
	}
	f := Frame{Data: d.buf, Symbology: d.sym}
	d.buf, d.open = nil, false
	if len(f.Data) == 0 {
		return nil, nil
	}
	return []Frame{f}, nil
}

func (d *POSDecoder) reset() { d.buf, d.open = nil, false }

// HIDReader reads reports from an open HID device (hidraw node, karalabe/usb
// device, evdev node, or a pipe in tests) and delivers scans. Each Read of
// the stream must return one report.
type HIDReader struct {
	r   io.Reader
	dec ReportDecoder
	p   *pipeline
	// ReportSize is the read buffer size; default 256.
	ReportSize int
}

// NewHIDReader returns a reader that decodes reports from r with dec.
func NewHIDReader(r io.Reader, dec ReportDecoder, opts Options, sink Sink) (*HIDReader, error) {
	if sink == nil || dec == nil || r == nil {
		return nil, errors.New("new HID scanner reader: reader, decoder and sink are required")
	}
	return &HIDReader{r: r, dec: dec, p: newPipeline(opts, sink)}, nil
}

// Stats returns the reader's counters.
func (h *HIDReader) Stats() Stats { return h.p.stats.Snapshot() }

type deadliner interface{ SetReadDeadline(time.Time) error }

// Run reads reports until ctx ends or the device goes away (an error
// wrapping ErrDisconnected). If the stream supports read deadlines (an
// *os.File on hidraw, evdev or a pipe), cancellation interrupts a pending
// read; otherwise the owner closes the stream to stop it.
func (h *HIDReader) Run(ctx context.Context) error {
	if d, ok := h.r.(deadliner); ok {
		stop := context.AfterFunc(ctx, func() { _ = d.SetReadDeadline(time.Now()) })
		defer stop()
	}
	size := h.ReportSize
	if size <= 0 {
		size = 256
	}
	buf := make([]byte, size)
	for {
		n, err := h.r.Read(buf)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if n > 0 {
			at := h.p.opts.Now()
			frames, derr := h.dec.Decode(buf[:n])
			if derr != nil {
				h.p.incomplete(derr.Error(), buf[:n])
			}
			for _, f := range frames {
				if f.Problem != "" {
					h.p.reject(&h.p.stats.noise, f.Problem, f.Data)
					continue
				}
				h.p.frame(ctx, f.Data, f.Symbology, at)
			}
		}
		if err != nil {
			return fmt.Errorf("scanner %s: read report: %w: %w", h.p.opts.Source, ErrDisconnected, err)
		}
	}
}
