package scanner

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"

	"go.bug.st/serial/enumerator"
)

// ListDevices lists what could be a scanner, for `dockhand devices`: serial
// ports (with USB ids when the port is on USB), USB HID interfaces (when the
// build has USB HID support) and, on Linux, hidraw nodes and keyboard-like
// input devices read from sysfs under sysfsRoot (DefaultSysfs). What could be
// listed is returned even when a part failed; the error then joins the
// failures (ErrNoUSBHID among them in builds without cgo).
func ListDevices(sysfsRoot string) ([]DeviceInfo, error) {
	var out []DeviceInfo
	var errs []error
	ports, err := enumerator.GetDetailedPortsList()
	if err != nil {
		errs = append(errs, fmt.Errorf("list serial ports: %w", err))
	}
	for _, p := range ports {
		d := DeviceInfo{Kind: "serial", Path: p.Name, Serial: p.SerialNumber, Manufacturer: p.Manufacturer, Product: p.Product, Interface: -1}
		if p.IsUSB {
			d.VID, _ = parseHex16(p.VID)
			d.PID, _ = parseHex16(p.PID)
		}
		out = append(out, d)
	}
	hids, err := ListUSBHID()
	if err != nil {
		errs = append(errs, err)
	}
	out = append(out, hids...)
	if runtime.GOOS == "linux" {
		raws, err := ListHidraw(sysfsRoot)
		if err != nil {
			errs = append(errs, err)
		}
		out = append(out, raws...)
		kbs, err := ListInputKeyboards(sysfsRoot)
		if err != nil {
			errs = append(errs, err)
		}
		out = append(out, kbs...)
	}
	return out, errors.Join(errs...)
}

// FindSerialPort returns the serial port of the USB serial device matching
// m (a scanner in USB CDC-ACM / virtual COM mode, or a USB-serial cable).
func FindSerialPort(m Match) (string, error) {
	ports, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return "", fmt.Errorf("find serial port %s: %w", m, err)
	}
	for _, p := range ports {
		if !p.IsUSB {
			continue
		}
		vid, _ := strconv.ParseUint(p.VID, 16, 16)
		pid, _ := strconv.ParseUint(p.PID, 16, 16)
		if uint16(vid) == m.VID && uint16(pid) == m.PID && (m.Serial == "" || p.SerialNumber == m.Serial) {
			return p.Name, nil
		}
	}
	return "", fmt.Errorf("find serial port %s%s: %w", m, noUSBHint(), ErrNotFound)
}
