//go:build !darwin || cgo

package transport

import (
	"fmt"
	"strconv"

	"go.bug.st/serial/enumerator"
)

// ListSerialPorts lists the serial ports of this machine with their USB
// identity where they have one. Pseudo-terminals are not listed.
func ListSerialPorts() ([]SerialPortInfo, error) {
	ports, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return nil, fmt.Errorf("list serial ports: %w", err)
	}
	out := make([]SerialPortInfo, 0, len(ports))
	for _, p := range ports {
		if p.Name == "" {
			continue
		}
		info := SerialPortInfo{
			Path: p.Name, USB: p.IsUSB, Serial: p.SerialNumber,
			Manufacturer: p.Manufacturer, Product: p.Product,
		}
		if v, err := strconv.ParseUint(p.VID, 16, 16); err == nil {
			info.VID = uint16(v)
		}
		if v, err := strconv.ParseUint(p.PID, 16, 16); err == nil {
			info.PID = uint16(v)
		}
		out = append(out, info)
	}
	return out, nil
}
