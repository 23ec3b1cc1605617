package transport

import (
	"net/url"
	"strings"
)

// SerialPortInfo describes a serial port found on this machine.
type SerialPortInfo struct {
	Path         string // "/dev/ttyUSB0", "COM3"
	USB          bool   // a USB serial adapter or a USB CDC-ACM device
	VID, PID     uint16 // when USB
	Serial       string // USB serial number, when the device has one
	Manufacturer string
	Product      string
}

// URL returns a serial address for the port with the default line
// settings (9600 8N1); the baud rate usually needs adjusting.
func (p SerialPortInfo) URL() string {
	if !strings.HasPrefix(p.Path, "/") {
		return "serial://" + url.PathEscape(p.Path) + "?baud=9600" // COM3
	}
	return "serial://" + escapePath(p.Path) + "?baud=9600"
}
