// Package scanner reads barcode scanners and turns what they send into Scan
// values: the code as scanned, its AIM symbology identifier, the raw bytes, the
// time and the scanner it came from.
//
// Drivers never open devices by themselves from a path hidden inside them: the
// readers (SerialReader, HIDReader, EvdevReader) take an already open byte
// stream, so tests can hand them a pseudo-terminal or a pipe. The Open*
// helpers and the Supervisor do the opening, find a scanner again after it was
// unplugged, and report connected/disconnected.
//
// Four kinds of scanner are supported:
//
//   - serial (RS-232, USB CDC-ACM, USB-serial adapters): frames end with CR,
//     LF, CR LF, TAB or a silence gap; see SerialReader.
//   - USB HID keyboard emulation: boot keyboard reports decoded with a
//     keyboard layout; see KeyboardDecoder and HIDReader.
//   - USB HID POS (usage page 0x8C): vendor reports carrying the AIM id and
//     the data; see POSDecoder.
//   - Linux evdev (/dev/input/eventN) for keyboard scanners, grabbed
//     exclusively so keystrokes never reach the focused window; see
//     EvdevReader.
//
// Parsing what a code means (GS1 element strings, EAN normalisation) is not
// done here; the GS separator (0x1D) is kept in Code for that purpose.
package scanner
