package transport

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// USBPrinter is a printer bound to the Linux kernel's usblp driver, as
// found in sysfs.
type USBPrinter struct {
	Name         string // "lp0"
	Node         string // "/dev/usb/lp0"
	VID, PID     uint16
	Serial       string // iSerialNumber; often empty or shared on cheap printers
	Manufacturer string
	Product      string
	// BusPort is the physical USB port path ("1-1.2"): stable while the
	// printer stays in the same socket, even without a serial number.
	BusPort string
	// DeviceIDText is the raw IEEE 1284 id; DeviceID is it parsed (zero
	// when the printer sent none or it was unreadable).
	DeviceIDText string
	DeviceID     DeviceID
}

// URL returns a stable address for the printer: by vendor, product and
// serial number when it has one, else by the USB port it is plugged into.
func (p USBPrinter) URL() string {
	q := url.Values{}
	q.Set("vid", fmt.Sprintf("%04x", p.VID))
	q.Set("pid", fmt.Sprintf("%04x", p.PID))
	if p.Serial != "" {
		q.Set("serial", p.Serial)
	} else if p.BusPort != "" {
		q.Set("port", p.BusPort)
	}
	return "usblp://?" + q.Encode()
}

// USBMatch selects a usblp printer. VID and PID are required; Serial and
// BusPort narrow the choice when several identical printers are plugged in.
type USBMatch struct {
	VID, PID uint16
	Serial   string
	BusPort  string
}

func (m USBMatch) String() string {
	s := fmt.Sprintf("vid=%04x pid=%04x", m.VID, m.PID)
	if m.Serial != "" {
		s += " serial=" + m.Serial
	}
	if m.BusPort != "" {
		s += " port=" + m.BusPort
	}
	return s
}

func (m USBMatch) matches(p USBPrinter) bool {
	return p.VID == m.VID && p.PID == m.PID &&
		(m.Serial == "" || p.Serial == m.Serial) &&
		(m.BusPort == "" || p.BusPort == m.BusPort)
}

// usbSysfs reads usblp printers from a sysfs tree. Tests point it at a
// fake tree.
type usbSysfs struct {
	Sys string // "/sys"
	Dev string // "/dev"
}

var hostSysfs = usbSysfs{Sys: "/sys", Dev: "/dev"}

// list returns the usblp printers, ordered by node number. A system
// without the usbmisc class (no USB, usblp not loaded) has none.
func (s usbSysfs) list() ([]USBPrinter, error) {
	dir := filepath.Join(s.Sys, "class", "usbmisc")
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list usb printers: %w", err)
	}
	var out []USBPrinter
	for _, e := range ents {
		num, ok := strings.CutPrefix(e.Name(), "lp")
		if _, err := strconv.Atoi(num); !ok || err != nil {
			continue
		}
		p, err := s.read(e.Name())
		if err != nil {
			// Unplugged while we looked, or not a USB device: skip it.
			continue
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b USBPrinter) int {
		x, _ := strconv.Atoi(a.Name[2:])
		y, _ := strconv.Atoi(b.Name[2:])
		return x - y
	})
	return out, nil
}

func (s usbSysfs) read(name string) (USBPrinter, error) {
	iface, err := filepath.EvalSymlinks(filepath.Join(s.Sys, "class", "usbmisc", name, "device"))
	if err != nil {
		return USBPrinter{}, err
	}
	dev := filepath.Dir(iface) // the interface's parent is the USB device
	p := USBPrinter{Name: name, Node: filepath.Join(s.Dev, "usb", name), BusPort: filepath.Base(dev)}
	if p.VID, err = readHex16(filepath.Join(dev, "idVendor")); err != nil {
		return USBPrinter{}, err
	}
	if p.PID, err = readHex16(filepath.Join(dev, "idProduct")); err != nil {
		return USBPrinter{}, err
	}
	p.Serial = readAttr(filepath.Join(dev, "serial"))
	p.Manufacturer = readAttr(filepath.Join(dev, "manufacturer"))
	p.Product = readAttr(filepath.Join(dev, "product"))
	p.DeviceIDText = readAttr(filepath.Join(iface, "ieee1284_id"))
	if p.DeviceIDText != "" {
		p.DeviceID, _ = ParseDeviceID(p.DeviceIDText)
	}
	return p, nil
}

// find returns the one printer matching m.
func (s usbSysfs) find(m USBMatch) (USBPrinter, error) {
	all, err := s.list()
	if err != nil {
		return USBPrinter{}, err
	}
	var hits []USBPrinter
	for _, p := range all {
		if m.matches(p) {
			hits = append(hits, p)
		}
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		var seen []string
		for _, p := range all {
			seen = append(seen, fmt.Sprintf("%s %04x:%04x serial=%q port=%s", p.Name, p.VID, p.PID, p.Serial, p.BusPort))
		}
		detail := "no USB printers are plugged in"
		if len(seen) > 0 {
			detail = "plugged in: " + strings.Join(seen, "; ")
		}
		return USBPrinter{}, fmt.Errorf("no USB printer with %s is plugged in (%s): %w", m, detail, ErrNotFound)
	default:
		var names []string
		for _, p := range hits {
			names = append(names, fmt.Sprintf("%s (serial=%q port=%s)", p.Node, p.Serial, p.BusPort))
		}
		return USBPrinter{}, fmt.Errorf("%d printers match %s: %s; add serial= or port= to the address: %w",
			len(hits), m, strings.Join(names, ", "), ErrBadAddress)
	}
}

func readAttr(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimRight(string(b), "\x00\r\n ")
}

func readHex16(path string) (uint16, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 16, 16)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	return uint16(v), nil
}

// USBLPTarget is a printer driven by the Linux usblp kernel driver, by
// node or by identity:
//
//	usblp:///dev/usb/lp0
//	usblp://?vid=0483&pid=5743&serial=XYZ
//	usblp://?vid=0483&pid=5743&port=1-1.2
//
// Identity addresses are looked up in sysfs at every Open, so a printer
// re-plugged at a new node (lp0 became lp1) is found again. Options:
// write_timeout (default 30s) bounds each Write; drain_timeout (default
// 30s) bounds how long Close waits for the last bytes to reach the printer.
type USBLPTarget struct {
	Node         string   // set for a node address
	Match        USBMatch // set for an identity address
	WriteTimeout time.Duration
	DrainTimeout time.Duration
	sysfs        usbSysfs
}

// DefaultDrainTimeout bounds how long closing a usblp port waits for the
// last bytes to leave.
const DefaultDrainTimeout = 30 * time.Second

func parseUSBLP(u *url.URL) (*USBLPTarget, error) {
	raw := u.String()
	t := &USBLPTarget{sysfs: hostSysfs}
	q := newQuery(u, raw)
	vid, pid := q.str("vid", ""), q.str("pid", "")
	t.Match.Serial = q.str("serial", "")
	t.Match.BusPort = q.str("port", "")
	t.WriteTimeout = q.duration("write_timeout", DefaultWriteTimeout)
	t.DrainTimeout = q.duration("drain_timeout", DefaultDrainTimeout)
	if err := q.done(); err != nil {
		return nil, err
	}
	if u.Host != "" {
		return nil, newErrf("parse", raw, ErrBadAddress, "write usblp:///dev/usb/lp0 (three slashes) or usblp://?vid=…&pid=…")
	}
	byID := vid != "" || pid != "" || t.Match.Serial != "" || t.Match.BusPort != ""
	switch {
	case u.Path != "" && byID:
		return nil, newErrf("parse", raw, ErrBadAddress, "give either a device node or vid/pid, not both")
	case u.Path != "":
		t.Node = u.Path
		return t, nil
	case vid == "" || pid == "":
		return nil, newErrf("parse", raw, ErrBadAddress, "give a device node (usblp:///dev/usb/lp0) or both vid and pid (usblp://?vid=0483&pid=5743)")
	}
	var err error
	if t.Match.VID, err = parseID(vid); err != nil {
		return nil, newErrf("parse", raw, ErrBadAddress, "vid=%q is not a 4-digit hex USB vendor id", vid)
	}
	if t.Match.PID, err = parseID(pid); err != nil {
		return nil, newErrf("parse", raw, ErrBadAddress, "pid=%q is not a 4-digit hex USB product id", pid)
	}
	return t, nil
}

func parseID(s string) (uint16, error) {
	s = strings.TrimPrefix(strings.ToLower(s), "0x")
	if len(s) == 0 || len(s) > 4 {
		return 0, strconv.ErrSyntax
	}
	v, err := strconv.ParseUint(s, 16, 16)
	return uint16(v), err
}

func (t *USBLPTarget) String() string {
	if t.Node != "" {
		return "usblp://" + t.Node
	}
	q := url.Values{}
	q.Set("vid", fmt.Sprintf("%04x", t.Match.VID))
	q.Set("pid", fmt.Sprintf("%04x", t.Match.PID))
	if t.Match.Serial != "" {
		q.Set("serial", t.Match.Serial)
	}
	if t.Match.BusPort != "" {
		q.Set("port", t.Match.BusPort)
	}
	return "usblp://?" + q.Encode()
}

// resolve returns the device node to open now.
func (t *USBLPTarget) resolve() (string, error) {
	if t.Node != "" {
		return t.Node, nil
	}
	p, err := t.sysfs.find(t.Match)
	if err != nil {
		return "", fmt.Errorf("transport: open %s: %w", t, err)
	}
	return p.Node, nil
}
