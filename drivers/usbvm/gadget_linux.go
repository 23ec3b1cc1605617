package usbvm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

const gadgetRoot = "/sys/kernel/config/usb_gadget"

// Gadget is a USB device built through configfs and played by the guest's gadget side.
type Gadget struct {
	GadgetSpec
	dir          string
	hasFunctions bool
	printerNode  string // the /dev/g_printerN made when a printer function was last bound
}

// CreateGadget builds (but does not plug) a gadget from spec under configfs.
func CreateGadget(spec GadgetSpec) (*Gadget, error) {
	g := &Gadget{GadgetSpec: spec, dir: filepath.Join(gadgetRoot, spec.Name)}
	op := "create gadget " + spec.Name
	if err := os.Mkdir(g.dir, 0o755); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	w := func(rel string, v []byte) error {
		if err := os.WriteFile(filepath.Join(g.dir, rel), v, 0); err != nil {
			return fmt.Errorf("%s: write %s: %w", op, rel, err)
		}
		return nil
	}
	hex := func(v uint16) []byte { return fmt.Appendf(nil, "0x%04x", v) }
	mk := func(rel string) error {
		if err := os.MkdirAll(filepath.Join(g.dir, rel), 0o755); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		return nil
	}
	steps := []func() error{
		func() error { return w("idVendor", hex(spec.VID)) },
		func() error { return w("idProduct", hex(spec.PID)) },
		func() error { return w("bcdDevice", hex(0x0100)) },
		func() error { return w("bcdUSB", hex(0x0200)) },
		func() error { return w("bDeviceClass", fmt.Appendf(nil, "0x%02x", spec.Class)) },
		func() error { return w("bDeviceSubClass", fmt.Appendf(nil, "0x%02x", spec.SubClass)) },
		func() error { return w("bDeviceProtocol", fmt.Appendf(nil, "0x%02x", spec.Protocol)) },
		func() error { return mk("strings/0x409") },
		func() error { return w("strings/0x409/manufacturer", []byte(spec.Manufacturer)) },
		func() error { return w("strings/0x409/product", []byte(spec.Product)) },
		func() error { return w("strings/0x409/serialnumber", []byte(spec.Serial)) },
		func() error { return mk("configs/c.1/strings/0x409") },
		func() error { return w("configs/c.1/strings/0x409/configuration", []byte(spec.Product)) },
		func() error { return w("configs/c.1/MaxPower", []byte("100")) },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return nil, err
		}
	}
	if err := g.addFunctions(); err != nil {
		return nil, err
	}
	return g, nil
}

// addFunctions creates the gadget's functions and links them into its configuration.
func (g *Gadget) addFunctions() error {
	op := "create gadget " + g.Name
	for _, f := range g.Functions {
		name := f.Kind + "." + f.Instance
		fdir := filepath.Join(g.dir, "functions", name)
		if err := os.Mkdir(fdir, 0o755); err != nil {
			return fmt.Errorf("%s: function %s: %w", op, name, err)
		}
		for _, a := range f.Attrs {
			if err := os.WriteFile(filepath.Join(fdir, a.Name), a.Value, 0); err != nil {
				return fmt.Errorf("%s: write %s/%s: %w", op, name, a.Name, err)
			}
		}
		if err := os.Symlink(fdir, filepath.Join(g.dir, "configs/c.1", name)); err != nil {
			return fmt.Errorf("%s: link %s: %w", op, name, err)
		}
	}
	g.hasFunctions = true
	return nil
}

// removeFunctions unlinks and removes the gadget's functions (the gadget must be unbound).
func (g *Gadget) removeFunctions() error {
	for _, f := range g.Functions {
		name := f.Kind + "." + f.Instance
		if err := os.Remove(filepath.Join(g.dir, "configs/c.1", name)); err != nil {
			return fmt.Errorf("unplug %s: unlink %s: %w", g.Name, name, err)
		}
		if err := os.Remove(filepath.Join(g.dir, "functions", name)); err != nil {
			return fmt.Errorf("unplug %s: remove %s: %w", g.Name, name, err)
		}
	}
	g.hasFunctions = false
	return nil
}

// Plug binds the gadget to its UDC: the host side sees the device arrive. After an Unplug
// the functions are made anew, so the device starts with empty buffers and the gadget-side
// nodes (/dev/g_printer0, /dev/ttyGS0, /dev/hidg0) must be opened again.
func (g *Gadget) Plug() error {
	if !g.hasFunctions {
		if err := g.addFunctions(); err != nil {
			return err
		}
	}
	// The printer function makes its /dev/g_printerN when bound, numbered by creation
	// order among printer functions alive: the node that appears is this gadget's.
	before, _ := filepath.Glob("/dev/g_printer*")
	if err := os.WriteFile(filepath.Join(g.dir, "UDC"), []byte(g.UDC), 0); err != nil {
		return fmt.Errorf("plug %s into %s: %w", g.Name, g.UDC, err)
	}
	after, _ := filepath.Glob("/dev/g_printer*")
	g.printerNode = ""
	for _, n := range after {
		if !slices.Contains(before, n) {
			g.printerNode = n
		}
	}
	return nil
}

// Remove unplugs the gadget and deletes it from configfs.
func (g *Gadget) Remove() error {
	if err := g.Unplug(); err != nil {
		return err
	}
	for _, d := range []string{"configs/c.1/strings/0x409", "configs/c.1", "strings/0x409", ""} {
		if err := os.Remove(filepath.Join(g.dir, d)); err != nil {
			return fmt.Errorf("remove gadget %s: %w", g.Name, err)
		}
	}
	return nil
}

// Unplug unbinds the gadget: the host side sees the device disconnect. Gadget-side files
// still open stop working.
func (g *Gadget) Unplug() error {
	if err := os.WriteFile(filepath.Join(g.dir, "UDC"), []byte("\n"), 0); err != nil {
		return fmt.Errorf("unplug %s: %w", g.Name, err)
	}
	g.printerNode = ""
	// A real device loses its buffers with its cable. The kernel's printer function does
	// not: after a re-bind it hands stale, zero-filled requests to the gadget side. Removing
	// the functions resets that, as pulling the cable resets a printer's USB interface.
	return g.removeFunctions()
}

// HostDevice returns the sysfs directory of the host-side USB device with the gadget's
// VID:PID and serial number, or "" if the host does not see it.
func (g *Gadget) HostDevice() (string, error) {
	return FindUSBDevice(g.VID, g.PID, g.Serial)
}

// FindUSBDevice returns the sysfs directory of the first USB device with vid:pid (and
// serial number, unless serial is empty), or "" if there is none.
func FindUSBDevice(vid, pid uint16, serial string) (string, error) {
	devs, err := filepath.Glob("/sys/bus/usb/devices/*")
	if err != nil {
		return "", fmt.Errorf("find USB device %04x:%04x: %w", vid, pid, err)
	}
	for _, d := range devs {
		v, err1 := os.ReadFile(filepath.Join(d, "idVendor"))
		p, err2 := os.ReadFile(filepath.Join(d, "idProduct"))
		if err1 != nil || err2 != nil {
			continue // an interface, or a device going away
		}
		if serial != "" {
			sn, err := os.ReadFile(filepath.Join(d, "serial"))
			if err != nil || strings.TrimSpace(string(sn)) != serial {
				continue
			}
		}
		if strings.TrimSpace(string(v)) == fmt.Sprintf("%04x", vid) && strings.TrimSpace(string(p)) == fmt.Sprintf("%04x", pid) {
			real, err := filepath.EvalSymlinks(d)
			if err != nil {
				continue
			}
			return real, nil
		}
	}
	return "", nil
}

// DeviceNodes lists the /dev nodes the kernel made for a sysfs device and its children
// (interfaces, ttys, hidraw, input devices), e.g. /dev/usb/lp0 or /dev/ttyACM0.
func DeviceNodes(sysDir string) ([]string, error) {
	var nodes []string
	err := filepath.WalkDir(sysDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p != sysDir && errors.Is(err, fs.ErrNotExist) {
				return nil // a child vanished while we walked
			}
			return err
		}
		if d.Name() != "uevent" || d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		for _, l := range strings.Split(string(b), "\n") {
			if name, ok := strings.CutPrefix(l, "DEVNAME="); ok {
				nodes = append(nodes, "/dev/"+name)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list device nodes of %s: %w", sysDir, err)
	}
	return nodes, nil
}

// WaitHostNode waits until the host side sees the gadget and the kernel made a node whose
// path starts with /dev/+prefix ("usb/lp", "ttyACM", "hidraw", "input/event") and exists,
// and returns it.
func (g *Gadget) WaitHostNode(ctx context.Context, prefix string) (string, error) {
	want := "/dev/" + prefix
	var last string
	for {
		dev, err := g.HostDevice()
		if err != nil {
			return "", err
		}
		if dev != "" {
			nodes, _ := DeviceNodes(dev)
			last = strings.Join(nodes, " ")
			for _, n := range nodes {
				if strings.HasPrefix(n, want) {
					if _, err := os.Stat(n); err == nil {
						return n, nil
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("wait for %s of %s (%04x:%04x): %w (device %q, nodes [%s])",
				want, g.Name, g.VID, g.PID, ctx.Err(), dev, last)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// WaitGone waits until the host side no longer sees the gadget.
func (g *Gadget) WaitGone(ctx context.Context) error {
	for {
		dev, err := g.HostDevice()
		if err != nil {
			return err
		}
		if dev == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s to disappear: %w (still at %s)", g.Name, ctx.Err(), dev)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// FunctionNode returns the gadget-side /dev node of the gadget's first function: the
// printer end (/dev/g_printerN), the serial end (/dev/ttyGSN) or the HID end (/dev/hidgN).
func (g *Gadget) FunctionNode() (string, error) {
	if len(g.Functions) == 0 {
		return "", fmt.Errorf("gadget %s has no function", g.Name)
	}
	f := g.Functions[0]
	fdir := filepath.Join(g.dir, "functions", f.Kind+"."+f.Instance)
	switch f.Kind {
	case "acm":
		b, err := os.ReadFile(filepath.Join(fdir, "port_num"))
		if err != nil {
			return "", fmt.Errorf("gadget %s serial port: %w", g.Name, err)
		}
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return "", fmt.Errorf("gadget %s serial port: %w", g.Name, err)
		}
		return fmt.Sprintf("/dev/ttyGS%d", n), nil
	case "hid":
		b, err := os.ReadFile(filepath.Join(fdir, "dev"))
		if err != nil {
			return "", fmt.Errorf("gadget %s hid node: %w", g.Name, err)
		}
		nodes, err := DeviceNodes(filepath.Join("/sys/dev/char", strings.TrimSpace(string(b))) + "/")
		if err != nil || len(nodes) == 0 {
			return "", fmt.Errorf("gadget %s hid node for %s: %v", g.Name, strings.TrimSpace(string(b)), err)
		}
		return nodes[0], nil
	case "printer":
		if g.printerNode == "" {
			return "", fmt.Errorf("gadget %s has no printer node: it is not plugged in", g.Name)
		}
		return g.printerNode, nil
	}
	return "", fmt.Errorf("gadget %s: no node for function kind %q", g.Name, f.Kind)
}

// Printer status bits, as the kernel's g_printer.h and the IEEE 1284 port status define them.
const (
	PrinterNotError   = 0x08
	PrinterSelected   = 0x10
	PrinterPaperEmpty = 0x20
)

// ioctls of the printer gadget (linux/usb/g_printer.h); the status is passed by value.
const (
	gadgetGetPrinterStatus = 0x80016721 // _IOR('g', 0x21, unsigned char)
	gadgetSetPrinterStatus = 0xc0016722 // _IOWR('g', 0x22, unsigned char)
)

// SetPrinterStatus sets the status byte the printer gadget reports to the host (the answer
// to the printer class GET_PORT_STATUS request, which usblp's LPGETSTATUS reads).
func SetPrinterStatus(f *os.File, status byte) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("set printer status: %w", err)
	}
	var ioErr error
	err = rc.Control(func(fd uintptr) {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, fd, gadgetSetPrinterStatus, uintptr(status))
		if e != 0 {
			ioErr = e
		}
	})
	if err == nil {
		err = ioErr
	}
	if err != nil {
		return fmt.Errorf("set printer status: %w", err)
	}
	return nil
}

// OpenRawTTY opens a terminal such as /dev/ttyGS0 in raw mode (no echo, no line editing,
// no CR/LF translation), so bytes pass through exactly.
func OpenRawTTY(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("open tty %s: %w", path, err)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open tty %s: %w", path, err)
	}
	var tErr error
	err = rc.Control(func(fd uintptr) {
		t, err := unix.IoctlGetTermios(int(fd), unix.TCGETS)
		if err != nil {
			tErr = err
			return
		}
		t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		t.Oflag &^= unix.OPOST
		t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		t.Cflag &^= unix.CSIZE | unix.PARENB
		t.Cflag |= unix.CS8
		t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
		tErr = unix.IoctlSetTermios(int(fd), unix.TCSETS, t)
	})
	if err == nil {
		err = tErr
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open tty %s: set raw mode: %w", path, err)
	}
	return f, nil
}
