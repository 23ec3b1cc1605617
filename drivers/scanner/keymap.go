package scanner

import (
	"fmt"
	"sort"
	"strings"
)

// HID keyboard usage IDs (usage page 0x07) with a fixed meaning in every
// layout.
const (
	usageEnter     = 0x28
	usageTab       = 0x2B
	usageKPEnter   = 0x58
	usageKP1       = 0x59 // KP1..KP9 are 0x59..0x61
	usageKP0       = 0x62
	usageModFirst  = 0xE0 // left control; 0xE0..0xE7 are the modifiers
	usageRollOver  = 0x01 // ErrorRollOver: too many keys down, report invalid
	usageUndefined = 0x03
)

// Modifier bits of the first byte of a boot keyboard report.
const (
	modLCtrl  = 0x01
	modLShift = 0x02
	modLAlt   = 0x04
	modRCtrl  = 0x10
	modRShift = 0x20
	modRAlt   = 0x40 // AltGr in European layouts
)

// keyChars is what one key types: plain, with Shift, with AltGr.
// Zero means the key types nothing in that state (or is a dead key).
type keyChars [3]rune

// Layout maps HID keyboard usages to the characters a keyboard-emulating
// scanner meant to type. A scanner must be set to the same layout as
// configured here; most default to US.
type Layout struct {
	name  string
	altGr bool // right Alt is AltGr (not Alt)
	keys  [256]keyChars
}

// Name returns the layout's configuration name ("us", "de", "fr").
func (l *Layout) Name() string { return l.name }

var layouts = map[string]*Layout{}

// LayoutByName returns a keyboard layout by its configuration name: "us"
// (US English), "de" (German QWERTZ) or "fr" (French AZERTY).
func LayoutByName(name string) (*Layout, error) {
	if l, ok := layouts[strings.ToLower(strings.TrimSpace(name))]; ok {
		return l, nil
	}
	return nil, fmt.Errorf("unknown keyboard layout %q: use one of %s", name, strings.Join(LayoutNames(), ", "))
}

// LayoutNames lists the supported layout names.
func LayoutNames() []string {
	var n []string
	for k := range layouts {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// Layouts shipped with the package.
var (
	LayoutUS = newLayout("us", false, usKeys)
	LayoutDE = newLayout("de", true, deKeys)
	LayoutFR = newLayout("fr", true, frKeys)
)

// keySpec lists usage → plain, shift, altgr characters as a string of up to
// three runes; '\x00' is "nothing".
type keySpec map[uint8]string

func newLayout(name string, altGr bool, spec keySpec) *Layout {
	l := &Layout{name: name, altGr: altGr}
	// Letters a..z at usages 0x04..0x1D unless the layout moves them.
	for u := uint8(0x04); u <= 0x1D; u++ {
		c := rune('a' + u - 0x04)
		l.keys[u] = keyChars{c, c - 'a' + 'A', 0}
	}
	l.keys[0x2C] = keyChars{' ', ' ', ' '}
	// Keypad: the same in every layout (Num Lock on).
	for i := uint8(0); i < 9; i++ {
		l.keys[usageKP1+i] = keyChars{rune('1' + i), 0, 0}
	}
	l.keys[usageKP0] = keyChars{'0', 0, 0}
	l.keys[0x63] = keyChars{'.', 0, 0}
	l.keys[0x54] = keyChars{'/', '/', 0}
	l.keys[0x55] = keyChars{'*', '*', 0}
	l.keys[0x56] = keyChars{'-', '-', 0}
	l.keys[0x57] = keyChars{'+', '+', 0}
	for u, s := range spec {
		var k keyChars
		for i, r := range []rune(s) {
			if i < 3 {
				k[i] = r
			}
		}
		l.keys[u] = k
	}
	layouts[name] = l
	return l
}

// char returns the character for a key press with modifier bits mods.
func (l *Layout) char(usage, mods uint8) rune {
	k := l.keys[usage]
	switch {
	case l.altGr && mods&modRAlt != 0:
		return k[2]
	case mods&(modLShift|modRShift) != 0:
		return k[1]
	default:
		return k[0]
	}
}

var usKeys = keySpec{
	0x1E: "1!", 0x1F: "2@", 0x20: "3#", 0x21: "4$", 0x22: "5%",
	0x23: "6^", 0x24: "7&", 0x25: "8*", 0x26: "9(", 0x27: "0)",
	0x2D: "-_", 0x2E: "=+", 0x2F: "[{", 0x30: "]}", 0x31: "\\|", 0x32: "\\|",
	0x33: ";:", 0x34: "'\"", 0x35: "`~", 0x36: ",<", 0x37: ".>", 0x38: "/?",
	0x64: "\\|",
}

// German QWERTZ (T1). Dead keys (´ ` ^) type nothing.
var deKeys = keySpec{
	0x1C: "zZ", 0x1D: "yY", // Z and Y swapped
	0x14: "qQ@", 0x08: "eE€", 0x10: "mMµ",
	0x1E: "1!", 0x1F: "2\"²", 0x20: "3§³", 0x21: "4$", 0x22: "5%",
	0x23: "6&", 0x24: "7/{", 0x25: "8([", 0x26: "9)]", 0x27: "0=}",
	0x2D: "ß?\\", 0x2E: "\x00\x00", 0x2F: "üÜ", 0x30: "+*~",
	0x31: "#'", 0x32: "#'", 0x33: "öÖ", 0x34: "äÄ", 0x35: "\x00°",
	0x36: ",;", 0x37: ".:", 0x38: "-_", 0x64: "<>|",
}

// French AZERTY. Dead keys (^ ¨ ~ `) type nothing.
var frKeys = keySpec{
	0x14: "aA", 0x04: "qQ", 0x1A: "zZ", 0x1D: "wW", 0x33: "mM", 0x08: "eE€",
	0x10: ",?", 0x36: ";.", 0x37: ":/", 0x38: "!§",
	0x1E: "&1", 0x1F: "é2", 0x20: "\"3#", 0x21: "'4{", 0x22: "(5[",
	0x23: "-6|", 0x24: "è7", 0x25: "_8\\", 0x26: "ç9^", 0x27: "à0@",
	0x2D: ")°]", 0x2E: "=+}", 0x2F: "\x00\x00", 0x30: "$£¤",
	0x31: "*µ", 0x32: "*µ", 0x34: "ù%", 0x35: "²", 0x64: "<>",
}
