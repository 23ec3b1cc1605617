package usbvm

import "fmt"

// Boot keyboard modifier bits and usages (USB HID Usage Tables, keyboard page 0x07).
const (
	ModLeftShift = 0x02
	UsageEnter   = 0x28
	UsageTab     = 0x2b
)

// usUsages maps printable ASCII to (modifier, usage) on a US keyboard.
var usUsages = func() map[byte][2]byte {
	m := map[byte][2]byte{}
	for c := byte('a'); c <= 'z'; c++ {
		m[c] = [2]byte{0, 0x04 + c - 'a'}
		m[c-'a'+'A'] = [2]byte{ModLeftShift, 0x04 + c - 'a'}
	}
	for c := byte('1'); c <= '9'; c++ {
		m[c] = [2]byte{0, 0x1e + c - '1'}
	}
	m['0'] = [2]byte{0, 0x27}
	for i, c := range []byte("!@#$%^&*()") {
		m[c] = [2]byte{ModLeftShift, 0x1e + byte(i)}
	}
	plain := "-=[]\\"
	shifted := "_+{}|"
	for i := range plain {
		m[plain[i]] = [2]byte{0, 0x2d + byte(i)}
		m[shifted[i]] = [2]byte{ModLeftShift, 0x2d + byte(i)}
	}
	plain, shifted = ";'`,./", ":\"~<>?"
	for i := range plain {
		m[plain[i]] = [2]byte{0, 0x33 + byte(i)}
		m[shifted[i]] = [2]byte{ModLeftShift, 0x33 + byte(i)}
	}
	m[' '] = [2]byte{0, 0x2c}
	m['\r'] = [2]byte{0, UsageEnter}
	m['\n'] = [2]byte{0, UsageEnter}
	m['\t'] = [2]byte{0, UsageTab}
	return m
}()

// KeyboardReports returns the 8-byte boot keyboard input reports a US-layout keyboard
// scanner sends to type s: for each character a key-down report, then an all-keys-up
// report. CR and LF both type Enter.
func KeyboardReports(s string) ([][]byte, error) {
	var out [][]byte
	for i := 0; i < len(s); i++ {
		u, ok := usUsages[s[i]]
		if !ok {
			return nil, fmt.Errorf("keyboard reports: byte %q at %d cannot be typed on a US keyboard", s[i], i)
		}
		out = append(out, []byte{u[0], 0, u[1], 0, 0, 0, 0, 0}, make([]byte, 8))
	}
	return out, nil
}
