package scanner

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// DefaultSysfs is the root of the Linux sysfs tree. Functions that read
// sysfs take the root as a parameter so tests can hand them a copy.
const DefaultSysfs = "/sys"

// DeviceInfo describes a device that may be a scanner.
type DeviceInfo struct {
	Kind         string // "serial", "usb-hid", "hidraw" or "input"
	Path         string // what to open: /dev/ttyACM0, a hidapi path, /dev/hidraw0, /dev/input/event5
	VID, PID     uint16
	Serial       string
	Manufacturer string
	Product      string
	UsagePage    uint16 // HID usage page when known (0x8C: barcode scanner)
	Interface    int    // USB interface number when known, else -1
}

func (d DeviceInfo) String() string {
	return fmt.Sprintf("%s %s %04x:%04x serial=%q %s %s", d.Kind, d.Path, d.VID, d.PID, d.Serial, d.Manufacturer, d.Product)
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func parseHex16(s string) (uint16, bool) {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 16, 16)
	return uint16(v), err == nil
}

// isKeyboardCaps says whether a capabilities/key bitmap (hex words, most
// significant first) has Enter, A and 1: the keys every keyboard scanner
// types. Those bits are below 32, so the word size does not matter.
func isKeyboardCaps(s string) bool {
	f := strings.Fields(s)
	if len(f) == 0 {
		return false
	}
	last := f[len(f)-1]
	if len(last) > 8 {
		last = last[len(last)-8:]
	}
	w, err := strconv.ParseUint(last, 16, 32)
	if err != nil {
		return false
	}
	const need = 1<<28 | 1<<30 | 1<<2 // KEY_ENTER, KEY_A, KEY_1
	return w&need == need
}

// ListInputKeyboards lists /dev/input/eventN nodes that look like keyboards
// (keyboard-emulating scanners among them), read from sysfs under root.
func ListInputKeyboards(root string) ([]DeviceInfo, error) {
	dirs, err := filepath.Glob(filepath.Join(root, "class", "input", "event*"))
	if err != nil {
		return nil, fmt.Errorf("list input devices: %w", err)
	}
	sort.Strings(dirs)
	var out []DeviceInfo
	for _, d := range dirs {
		dev := filepath.Join(d, "device")
		if !isKeyboardCaps(readTrim(filepath.Join(dev, "capabilities", "key"))) {
			continue
		}
		info := DeviceInfo{Kind: "input", Path: "/dev/input/" + filepath.Base(d), Interface: -1,
			Serial: readTrim(filepath.Join(dev, "uniq")), Product: readTrim(filepath.Join(dev, "name"))}
		info.VID, _ = parseHex16(readTrim(filepath.Join(dev, "id", "vendor")))
		info.PID, _ = parseHex16(readTrim(filepath.Join(dev, "id", "product")))
		out = append(out, info)
	}
	return out, nil
}

// ListHidraw lists /dev/hidrawN nodes with the ids from their uevent file.
func ListHidraw(root string) ([]DeviceInfo, error) {
	dirs, err := filepath.Glob(filepath.Join(root, "class", "hidraw", "hidraw*"))
	if err != nil {
		return nil, fmt.Errorf("list hidraw devices: %w", err)
	}
	sort.Strings(dirs)
	var out []DeviceInfo
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "device", "uevent"))
		if err != nil {
			continue
		}
		info := parseHIDUevent(b)
		info.Kind, info.Path, info.Interface = "hidraw", "/dev/"+filepath.Base(d), -1
		out = append(out, info)
	}
	return out, nil
}

// parseHIDUevent reads HID_ID, HID_NAME and HID_UNIQ from a HID device's
// uevent file.
func parseHIDUevent(b []byte) DeviceInfo {
	var info DeviceInfo
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		switch k {
		case "HID_ID": // bus:vendor:product, e.g. 0003:00000C2E:00000B8F
			p := strings.Split(v, ":")
			if len(p) == 3 {
				if x, err := strconv.ParseUint(p[1], 16, 32); err == nil && x <= 0xFFFF {
					info.VID = uint16(x)
				}
				if x, err := strconv.ParseUint(p[2], 16, 32); err == nil && x <= 0xFFFF {
					info.PID = uint16(x)
				}
			}
		case "HID_NAME":
			info.Product = v
		case "HID_UNIQ":
			info.Serial = v
		}
	}
	return info
}

// Match selects devices by USB ids and, when Serial is set, serial number.
type Match struct {
	VID, PID uint16
	Serial   string
}

func (m Match) String() string {
	s := fmt.Sprintf("%04x:%04x", m.VID, m.PID)
	if m.Serial != "" {
		s += " serial " + m.Serial
	}
	return s
}

func (m Match) matches(d DeviceInfo) bool {
	return d.VID == m.VID && d.PID == m.PID && (m.Serial == "" || d.Serial == m.Serial)
}

func findIn(list []DeviceInfo, err error, what string, m Match) (string, error) {
	if err != nil {
		return "", err
	}
	for _, d := range list {
		if m.matches(d) {
			return d.Path, nil
		}
	}
	return "", fmt.Errorf("find %s %s: %w", what, m, ErrNotFound)
}

// FindEvdev returns the /dev/input/eventN path of the keyboard-like input
// device matching m, from sysfs under root (DefaultSysfs in production).
func FindEvdev(root string, m Match) (string, error) {
	l, err := ListInputKeyboards(root)
	return findIn(l, err, "input device", m)
}

// FindHidraw returns the /dev/hidrawN path matching m.
func FindHidraw(root string, m Match) (string, error) {
	l, err := ListHidraw(root)
	return findIn(l, err, "hidraw device", m)
}
