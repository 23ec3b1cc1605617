package transport

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeSysfs builds a sysfs and /dev tree the way the kernel lays it out
// for usblp printers.
type fakeSysfs struct {
	t    *testing.T
	root usbSysfs
}

func newFakeSysfs(t *testing.T) *fakeSysfs {
	dir := t.TempDir()
	f := &fakeSysfs{t: t, root: usbSysfs{Sys: filepath.Join(dir, "sys"), Dev: filepath.Join(dir, "dev")}}
	for _, d := range []string{filepath.Join(f.root.Sys, "class", "usbmisc"), filepath.Join(f.root.Dev, "usb")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

type fakePrinter struct {
	lp, busPort, vid, pid, serial, product, id string
}

// plug adds lpN with its USB device at busPort; the node is a regular file
// that collects what is written.
func (f *fakeSysfs) plug(p fakePrinter) string {
	t := f.t
	dev := filepath.Join(f.root.Sys, "devices", "pci0000:00", "0000:00:14.0", "usb1", p.busPort)
	iface := filepath.Join(dev, p.busPort+":1.0")
	must(t, os.MkdirAll(iface, 0o755))
	write := func(path, s string) {
		if s != "" {
			must(t, os.WriteFile(path, []byte(s+"\n"), 0o644))
		}
	}
	write(filepath.Join(dev, "idVendor"), p.vid)
	write(filepath.Join(dev, "idProduct"), p.pid)
	write(filepath.Join(dev, "serial"), p.serial)
	write(filepath.Join(dev, "manufacturer"), "Xprinter")
	write(filepath.Join(dev, "product"), p.product)
	write(filepath.Join(iface, "ieee1284_id"), p.id)
	cls := filepath.Join(f.root.Sys, "class", "usbmisc", p.lp)
	must(t, os.MkdirAll(cls, 0o755))
	must(t, os.Symlink(iface, filepath.Join(cls, "device")))
	node := filepath.Join(f.root.Dev, "usb", p.lp)
	must(t, os.WriteFile(node, nil, 0o644))
	return node
}

func (f *fakeSysfs) unplug(lp, busPort string) {
	must(f.t, os.RemoveAll(filepath.Join(f.root.Sys, "class", "usbmisc", lp)))
	must(f.t, os.RemoveAll(filepath.Join(f.root.Sys, "devices", "pci0000:00", "0000:00:14.0", "usb1", busPort)))
	must(f.t, os.Remove(filepath.Join(f.root.Dev, "usb", lp)))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// useSysfs points the package at a fake tree for one test.
func useSysfs(t *testing.T, s usbSysfs) {
	old := hostSysfs
	hostSysfs = s
	t.Cleanup(func() { hostSysfs = old })
}

const xpID = "MFG:Xprinter;MDL:XP-470B;CMD:TSPL,ESCPOS;"

func TestUSBSysfsList(t *testing.T) {
	f := newFakeSysfs(t)
	if got, err := f.root.list(); err != nil || len(got) != 0 {
		t.Fatalf("empty usbmisc: %v, %v", got, err)
	}
	f.plug(fakePrinter{lp: "lp10", busPort: "1-3", vid: "1fc9", pid: "2016", product: "Label"})
	f.plug(fakePrinter{lp: "lp2", busPort: "1-1.2", vid: "0483", pid: "5743", serial: "XP001", product: "XP-470B", id: xpID})
	// Not printers: other usbmisc devices and broken entries are skipped.
	must(t, os.MkdirAll(filepath.Join(f.root.Sys, "class", "usbmisc", "hiddev0"), 0o755))
	must(t, os.MkdirAll(filepath.Join(f.root.Sys, "class", "usbmisc", "lp3"), 0o755))

	got, err := f.root.list()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "lp2" || got[1].Name != "lp10" {
		t.Fatalf("list = %+v, want lp2 then lp10", got)
	}
	p := got[0]
	if p.Node != filepath.Join(f.root.Dev, "usb", "lp2") || p.VID != 0x0483 || p.PID != 0x5743 ||
		p.Serial != "XP001" || p.Manufacturer != "Xprinter" || p.Product != "XP-470B" || p.BusPort != "1-1.2" {
		t.Errorf("lp2 = %+v", p)
	}
	if p.DeviceIDText != xpID || p.DeviceID.Model != "XP-470B" || !p.DeviceID.Speaks(LangTSPL) {
		t.Errorf("lp2 device id = %q %+v", p.DeviceIDText, p.DeviceID)
	}
	if want := "usblp://?pid=5743&serial=XP001&vid=0483"; p.URL() != want {
		t.Errorf("URL() = %q, want %q", p.URL(), want)
	}
	if want := "usblp://?pid=2016&port=1-3&vid=1fc9"; got[1].URL() != want {
		t.Errorf("URL() without a serial = %q, want %q", got[1].URL(), want)
	}
	// The suggested addresses parse and find the same printer.
	for _, p := range got {
		tg, err := ParseURL(p.URL())
		if err != nil {
			t.Fatal(err)
		}
		node, err := tg.(*USBLPTarget).resolve(f.root)
		if err != nil || node != p.Node {
			t.Errorf("%s resolves to %q, %v; want %s", p.URL(), node, err, p.Node)
		}
	}

	// No usbmisc class at all (no USB, usblp not loaded): no printers, no error.
	none := usbSysfs{Sys: t.TempDir(), Dev: "/dev"}
	if got, err := none.list(); err != nil || got != nil {
		t.Errorf("machine without usbmisc: %v, %v", got, err)
	}
}

func TestUSBSysfsFind(t *testing.T) {
	f := newFakeSysfs(t)
	f.plug(fakePrinter{lp: "lp0", busPort: "1-1", vid: "0483", pid: "5743", id: xpID})
	f.plug(fakePrinter{lp: "lp1", busPort: "1-2", vid: "0483", pid: "5743", id: xpID})
	f.plug(fakePrinter{lp: "lp2", busPort: "1-3", vid: "0483", pid: "5743", serial: "B"})

	tests := []struct {
		m    USBMatch
		node string
		err  error
	}{
		{USBMatch{VID: 0x0483, PID: 0x5743, Serial: "B"}, "lp2", nil},
		{USBMatch{VID: 0x0483, PID: 0x5743, BusPort: "1-2"}, "lp1", nil},
		{USBMatch{VID: 0x0483, PID: 0x5743}, "", ErrAmbiguous},
		{USBMatch{VID: 0x0483, PID: 0x5743, Serial: "C"}, "", ErrNotFound},
		{USBMatch{VID: 0x1234, PID: 0x5743}, "", ErrNotFound},
	}
	for _, tt := range tests {
		p, err := f.root.find(tt.m)
		if tt.err != nil {
			if !errors.Is(err, tt.err) || !Retryable(err) {
				t.Errorf("find(%s) = %+v, %v; want retryable %v", tt.m, p, err, tt.err)
			}
			continue
		}
		if err != nil || p.Name != tt.node {
			t.Errorf("find(%s) = %s, %v; want %s", tt.m, p.Name, err, tt.node)
		}
	}
	_, err := f.root.find(USBMatch{VID: 0x0483, PID: 0x5743, Serial: "C"})
	for _, want := range []string{"vid=0483 pid=5743 serial=C", "lp0", "lp2"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("not-found error %q should mention %q so the operator sees what is plugged in", err, want)
		}
	}
}

func TestUSBLPReplugFoundAtNewNode(t *testing.T) {
	f := newFakeSysfs(t)
	useSysfs(t, f.root)
	first := f.plug(fakePrinter{lp: "lp0", busPort: "1-1", vid: "0483", pid: "5743", serial: "XYZ", id: xpID})

	tg, err := ParseURL("usblp://?vid=0483&pid=5743&serial=XYZ")
	if err != nil {
		t.Fatal(err)
	}
	print := func(job string) string {
		t.Helper()
		p, err := tg.Open(t.Context())
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if p.Info().Kind != "usblp" {
			t.Errorf("Info() = %+v", p.Info())
		}
		if _, err := p.Write([]byte(job)); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		return p.Info().Address
	}
	if got := print("PRINT 1\r\n"); got != first {
		t.Errorf("first job went to %s, want %s", got, first)
	}

	// Re-plugged into another socket: the kernel gives it lp1.
	f.unplug("lp0", "1-1")
	if _, err := tg.Open(t.Context()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Open while unplugged = %v, want ErrNotFound", err)
	}
	second := f.plug(fakePrinter{lp: "lp1", busPort: "1-4", vid: "0483", pid: "5743", serial: "XYZ", id: xpID})
	if got := print("PRINT 2\r\n"); got != second {
		t.Errorf("after re-plug the job went to %s, want %s", got, second)
	}
	if b, _ := os.ReadFile(second); string(b) != "PRINT 2\r\n" {
		t.Errorf("new node holds %q", b)
	}
}

func TestUSBLPNodeErrors(t *testing.T) {
	if _, err := OpenUSBLP(t.Context(), filepath.Join(t.TempDir(), "lp9")); !errors.Is(err, ErrNotFound) {
		t.Errorf("OpenUSBLP of a missing node = %v, want ErrNotFound", err)
	}
	// A node that is not a usblp device: status and id are unsupported,
	// never a crash, and never mistaken for an unplug.
	node := filepath.Join(t.TempDir(), "lp0")
	must(t, os.WriteFile(node, nil, 0o644))
	p, err := OpenUSBLP(t.Context(), node)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Status(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Status on a plain file = %v, want ErrUnsupported", err)
	}
	if _, err := p.DeviceID(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("DeviceID on a plain file = %v, want ErrUnsupported", err)
	}
	if err := p.Check(); err != nil {
		t.Errorf("Check on a node without the status ioctl = %v, want nil", err)
	}
	if _, err := p.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(); err != nil {
		t.Errorf("Flush = %v", err)
	}
}

// A usblp printer found by identity and re-plugged at a new node is used
// again by the supervisor within 2 s.
func TestSupervisorUSBLPReplug(t *testing.T) {
	f := newFakeSysfs(t)
	useSysfs(t, f.root)
	f.plug(fakePrinter{lp: "lp0", busPort: "1-1", vid: "0483", pid: "5743", serial: "XYZ", id: xpID})

	s, events := superviseReal(t, "usblp://?vid=0483&pid=5743&serial=XYZ", SupervisorOptions{})
	waitState(t, events, StateConnected, 2*time.Second)
	f.unplug("lp0", "1-1")
	off := waitState(t, events, StateOffline, 2*time.Second)
	if !errors.Is(off.Err, ErrDisconnected) {
		t.Errorf("offline reason = %v, want ErrDisconnected", off.Err)
	}
	node := f.plug(fakePrinter{lp: "lp1", busPort: "1-2", vid: "0483", pid: "5743", serial: "XYZ", id: xpID})
	back := time.Now()
	on := waitState(t, events, StateConnected, 2*time.Second)
	t.Logf("found again at %s %s after the re-plug", on.Info.Address, time.Since(back).Round(time.Millisecond))
	if on.Info.Address != node {
		t.Errorf("reconnected to %s, want %s", on.Info.Address, node)
	}
	if err := s.Do(t.Context(), func(p Port) error { _, err := p.Write([]byte("PRINT 1\r\n")); return err }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(node); string(b) != "PRINT 1\r\n" {
		t.Errorf("new node holds %q", b)
	}
}
