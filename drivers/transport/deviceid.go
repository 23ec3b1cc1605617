package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// DeviceID is an IEEE 1284 device id, the "MFG:Xprinter;MDL:XP-470B;CMD:TSPL,ESCPOS;"
// string a printer reports about itself.
type DeviceID struct {
	Manufacturer string   // MFG or MANUFACTURER
	Model        string   // MDL or MODEL
	Commands     []string // CMD or COMMAND SET, as the printer spells them
	Class        string   // CLS or CLASS, usually PRINTER
	Description  string   // DES or DESCRIPTION
	Serial       string   // SN, SERN or SERIALNUMBER
	// Fields holds every key (upper-case, trimmed) with its value, the
	// ones above included.
	Fields map[string]string
}

// Command languages, as returned by [DeviceID.Languages].
const (
	LangTSPL   = "TSPL"
	LangESCPOS = "ESCPOS"
	LangZPL    = "ZPL"
	LangEPL    = "EPL"
	LangCPCL   = "CPCL"
)

var errDeviceID = errors.New("printer identity (IEEE 1284 device id) is unreadable")

// maxDeviceID bounds what is parsed: the length prefix is 16 bits.
const maxDeviceID = 1 << 16

// ParseDeviceID parses the text form of an IEEE 1284 device id (as in
// sysfs's ieee1284_id): "KEY:value;" pairs, keys case-insensitive. Segments
// without a colon are skipped; an id without any key:value pair is an error.
func ParseDeviceID(s string) (DeviceID, error) {
	s = strings.TrimRight(s, "\x00\r\n ")
	if len(s) > maxDeviceID {
		return DeviceID{}, fmt.Errorf("parse device id: %w: %d bytes is longer than any printer sends", errDeviceID, len(s))
	}
	if !utf8.ValidString(s) {
		// Old printers send Latin-1; keep the bytes readable.
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	d := DeviceID{Fields: map[string]string{}}
	for seg := range strings.SplitSeq(s, ";") {
		k, v, ok := strings.Cut(seg, ":")
		k = strings.ToUpper(strings.TrimSpace(k))
		if !ok || k == "" {
			continue
		}
		v = strings.TrimSpace(v)
		if _, dup := d.Fields[k]; dup {
			continue // first wins
		}
		d.Fields[k] = v
	}
	if len(d.Fields) == 0 {
		return DeviceID{}, fmt.Errorf("parse device id: %w: no KEY:value pairs in %q", errDeviceID, clip(s, 60))
	}
	d.Manufacturer = d.first("MFG", "MANUFACTURER")
	d.Model = d.first("MDL", "MODEL")
	d.Class = d.first("CLS", "CLASS")
	d.Description = d.first("DES", "DESCRIPTION")
	d.Serial = d.first("SN", "SERN", "SERIALNUMBER")
	for c := range strings.SplitSeq(d.first("CMD", "COMMAND SET"), ",") {
		if c = strings.TrimSpace(c); c != "" {
			d.Commands = append(d.Commands, c)
		}
	}
	return d, nil
}

// DecodeDeviceID parses the binary form returned by the usblp ioctl
// LPIOC_GET_DEVICE_ID: a big-endian 16-bit length that counts itself,
// then the text. A length longer than the buffer is clamped, as the
// kernel does.
func DecodeDeviceID(b []byte) (DeviceID, error) {
	if len(b) < 2 {
		return DeviceID{}, fmt.Errorf("decode device id: %w: %d bytes, no length", errDeviceID, len(b))
	}
	n := int(binary.BigEndian.Uint16(b))
	if n <= 2 {
		return DeviceID{}, fmt.Errorf("decode device id: %w: the printer sent an empty id", errDeviceID)
	}
	n = min(n, len(b))
	return ParseDeviceID(string(b[2:n]))
}

func (d DeviceID) first(keys ...string) string {
	for _, k := range keys {
		if v, ok := d.Fields[k]; ok {
			return v
		}
	}
	return ""
}

// Languages returns the command languages in a normal spelling: "ESC/POS"
// and "ESC-POS" become [LangESCPOS], "TSPL2" becomes [LangTSPL], "ZPL II"
// becomes [LangZPL]; others are upper-cased with spaces, '/', '-' and '_'
// removed. Order is kept, duplicates dropped.
func (d DeviceID) Languages() []string {
	var out []string
	for _, c := range d.Commands {
		l := normLang(c)
		if l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// Speaks reports whether the printer lists lang (any spelling) among its
// command languages.
func (d DeviceID) Speaks(lang string) bool {
	return slices.Contains(d.Languages(), normLang(lang))
}

func normLang(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '/', '-', '_', '.':
			return -1
		}
		return r
	}, strings.ToUpper(s))
	switch {
	case strings.HasPrefix(s, "TSPL"):
		return LangTSPL
	case s == "ESCPOS" || s == "ESCP2POS":
		return LangESCPOS
	case s == "ZPL" || s == "ZPLII" || s == "ZPL2":
		return LangZPL
	case s == "EPL" || s == "EPL2":
		return LangEPL
	}
	return s
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
