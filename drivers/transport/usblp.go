package transport

import (
	"fmt"
	"net/url"
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
}

// DefaultDrainTimeout bounds how long closing a usblp port waits for the
// last bytes to leave.
const DefaultDrainTimeout = 30 * time.Second

func parseUSBLP(u *url.URL) (*USBLPTarget, error) {
	raw := u.String()
	t := &USBLPTarget{}
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
	case badPath(u.Path):
		return nil, newErrf("parse", raw, ErrBadAddress, "the device path has control characters")
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
		return "usblp://" + escapePath(t.Node)
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
