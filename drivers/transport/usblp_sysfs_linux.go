package transport

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

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
		return USBPrinter{}, fmt.Errorf("%d printers match %s: %s: %w",
			len(hits), m, strings.Join(names, ", "), ErrAmbiguous)
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

// resolve returns the device node to open now.
func (t *USBLPTarget) resolve(s usbSysfs) (string, error) {
	if t.Node != "" {
		return t.Node, nil
	}
	p, err := s.find(t.Match)
	if err != nil {
		return "", fmt.Errorf("transport: open %s: %w", t, err)
	}
	return p.Node, nil
}
