package agent

import (
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"

	"go.bug.st/serial"

	"github.com/dockhand/dockhand/agent/config"
	"github.com/dockhand/dockhand/drivers/scanner"
)

// scannerOpener turns a configured scanner URL into the driver's opener:
//
//	serial:///dev/ttyACM0?baud=9600&parity=none      a serial or USB CDC-ACM scanner
//	serial://?vid=0c2e&pid=0b61&serial=X&baud=9600   the same, found by USB ids wherever it is plugged
//	hid://?vid=0c2e&pid=0b61[&serial=X][&mode=pos]   a USB HID scanner (keyboard or HID-POS), via libusb/hidapi
//	hidraw:///dev/hidraw0  or  hidraw://?vid=…&pid=… a USB HID scanner through the Linux hidraw node
//	evdev:///dev/input/event3  or  evdev://?vid=…    a keyboard-mode scanner, grabbed exclusively
func scannerOpener(sc config.Scanner, sink scanner.Sink, log *slog.Logger) (scanner.OpenFunc, error) {
	u, err := url.Parse(sc.URL)
	if err != nil {
		return nil, fmt.Errorf("scanner %s: url %q: %w", sc.ID, sc.URL, err)
	}
	q := u.Query()
	m, err := matchOf(q)
	if err != nil {
		return nil, fmt.Errorf("scanner %s: %w", sc.ID, err)
	}
	opts := scanner.Options{Source: sc.ID, Prefix: []byte(sc.Prefix), Suffix: []byte(sc.Suffix),
		DedupWindow: sc.DedupFor, Logger: log}
	keymap := sc.Keymap
	if keymap == "" {
		keymap = "us"
	}
	layout, err := scanner.LayoutByName(keymap)
	if err != nil {
		return nil, fmt.Errorf("scanner %s: %w", sc.ID, err)
	}
	switch u.Scheme {
	case "serial":
		term := scanner.TermCR
		if sc.Terminator != "" {
			if term, err = scanner.ParseTerminator(sc.Terminator); err != nil {
				return nil, fmt.Errorf("scanner %s: %w", sc.ID, err)
			}
		}
		mode := serial.Mode{BaudRate: 9600, DataBits: 8}
		if b := q.Get("baud"); b != "" {
			if mode.BaudRate, err = strconv.Atoi(b); err != nil {
				return nil, fmt.Errorf("scanner %s: baud %q is not a number", sc.ID, b)
			}
		}
		switch strings.ToLower(q.Get("parity")) {
		case "", "none", "n":
		case "even", "e":
			mode.Parity = serial.EvenParity
		case "odd", "o":
			mode.Parity = serial.OddParity
		default:
			return nil, fmt.Errorf("scanner %s: parity %q must be none, even or odd", sc.ID, q.Get("parity"))
		}
		if q.Get("bits") == "7" {
			mode.DataBits = 7
		}
		return scanner.SerialOpener(scanner.SerialTarget{Path: u.Path, Match: m, Mode: mode},
			scanner.SerialConfig{Options: opts, Terminator: term}, sink), nil
	case "hid", "hidraw":
		newDec := func() scanner.ReportDecoder { return scanner.NewKeyboardDecoder(layout) }
		if q.Get("mode") == "pos" {
			pl, err := scanner.POSLayoutByName(q.Get("pos_layout"))
			if err != nil {
				return nil, fmt.Errorf("scanner %s: %w", sc.ID, err)
			}
			newDec = func() scanner.ReportDecoder {
				d, _ := scanner.NewPOSDecoder(pl)
				return d
			}
		}
		if u.Scheme == "hidraw" {
			return scanner.HidrawOpener(scanner.DeviceTarget{Path: u.Path, Match: m}, newDec, opts, sink), nil
		}
		return scanner.USBHIDOpener(m, newDec, opts, sink), nil
	case "evdev":
		return scanner.EvdevOpener(scanner.DeviceTarget{Path: u.Path, Match: m}, layout, opts, sink), nil
	}
	return nil, fmt.Errorf("scanner %s: unknown kind %q (serial, hid, hidraw or evdev)", sc.ID, u.Scheme)
}

func matchOf(q url.Values) (scanner.Match, error) {
	var m scanner.Match
	for _, f := range []struct {
		key string
		dst *uint16
	}{{"vid", &m.VID}, {"pid", &m.PID}} {
		v := q.Get(f.key)
		if v == "" {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(v), "0x"), 16, 16)
		if err != nil {
			return m, fmt.Errorf("%s %q must be 4 hex digits", f.key, v)
		}
		*f.dst = uint16(n)
	}
	m.Serial = q.Get("serial")
	return m, nil
}
