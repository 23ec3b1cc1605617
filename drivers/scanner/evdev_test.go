package scanner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEvdevFixtures(t *testing.T) {
	for _, tt := range []struct {
		file   string
		layout *Layout
		want   []want
	}{
		{"evdev-us.hex", LayoutUS, []want{{"0104012345678901\x1d10LOT7", "]C1"}, {"SF12", ""}}},
		{"evdev-de.hex", LayoutDE, []want{{"Zy@42", ""}}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			events := readHexReports(t, filepath.Join("testdata", "evdev", tt.file))
			var got []Scan
			d := NewEvdevDecoder(tt.layout)
			d.Size = 24
			r, err := NewHIDReader(&reportStream{events}, d, Options{Source: "ev", Logger: quietLogger},
				func(_ context.Context, s Scan) { got = append(got, s) })
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Run(context.Background()); !errors.Is(err, ErrDisconnected) {
				t.Fatalf("Run = %v", err)
			}
			checkScans(t, got, tt.want, "ev")
		})
	}
}

// TestEvdevSplitEvents feeds events cut at odd places: partial records must
// be kept for the next read.
func TestEvdevSplitEvents(t *testing.T) {
	all := bytes.Join(readHexReports(t, "testdata/evdev/evdev-us.hex"), nil)
	d := NewEvdevDecoder(LayoutUS)
	d.Size = 24
	var got []string
	for len(all) > 0 {
		n := min(37, len(all))
		frames, err := d.Decode(all[:n])
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range frames {
			got = append(got, string(f.Data))
		}
		all = all[n:]
	}
	if fmt.Sprint(got) != fmt.Sprint([]string{"]C10104012345678901\x1d10LOT7", "SF12"}) {
		t.Errorf("got %q", got)
	}
}

// TestEvdevReaderOverPipe runs the reader over a real pipe in native event
// layout and checks that cancellation interrupts a pending read.
func TestEvdevReaderOverPipe(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	scans := make(chan Scan, 4)
	r, err := NewEvdevReader(pr, LayoutUS, Options{Source: "pipe", Logger: quietLogger}, ChanSink(scans))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	// Native layout events for "7" then Enter.
	ev := func(typ, code uint16, val int32) []byte {
		b := make([]byte, EventSize)
		tail := b[EventSize-8:]
		tail[0], tail[1] = byte(typ), byte(typ>>8)
		tail[2], tail[3] = byte(code), byte(code>>8)
		tail[4], tail[5], tail[6], tail[7] = byte(val), byte(val>>8), byte(val>>16), byte(val>>24)
		return b
	}
	var in []byte
	for _, code := range []uint16{8, 28} {
		in = append(in, ev(evKey, code, 1)...)
		in = append(in, ev(0, 0, 0)...)
		in = append(in, ev(evKey, code, 0)...)
	}
	if _, err := pw.Write(in); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-scans:
		if s.Code != "7" {
			t.Errorf("code %q, want 7", s.Code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no scan")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancel did not interrupt the pending read")
	}
}

// writeTree creates files under root from a path → content map.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func fakeSysfs(t *testing.T) string {
	root := t.TempDir()
	kbd := "120013\n"
	keys := "1000000000007 ff9f207ac14057ff febeffdfffefffff fffffffffffffffe\n"
	writeTree(t, root, map[string]string{
		// A Honeywell scanner in keyboard mode: keyboard node and a
		// consumer-control node without letter keys.
		"class/input/event3/device/id/vendor":        "0c2e\n",
		"class/input/event3/device/id/product":       "0b61\n",
		"class/input/event3/device/name":             "Honeywell Imaging & Mobility 1900\n",
		"class/input/event3/device/uniq":             "19123B4567\n",
		"class/input/event3/device/capabilities/ev":  kbd,
		"class/input/event3/device/capabilities/key": keys,
		"class/input/event4/device/id/vendor":        "0c2e\n",
		"class/input/event4/device/id/product":       "0b61\n",
		"class/input/event4/device/capabilities/key": "3 0 0 0\n",
		// A generic scanner with a 32-bit-kernel style bitmap.
		"class/input/event7/device/id/vendor":        "1a86\n",
		"class/input/event7/device/id/product":       "e026\n",
		"class/input/event7/device/name":             "USB Barcode Scanner\n",
		"class/input/event7/device/capabilities/key": "fffffffe\n",
		"class/hidraw/hidraw0/device/uevent":         "DRIVER=hid-generic\nHID_ID=0003:00000C2E:00000B61\nHID_NAME=Honeywell Imaging & Mobility 1900\nHID_PHYS=usb-0000:00:14.0-2/input0\nHID_UNIQ=19123B4567\n",
		"class/hidraw/hidraw1/device/uevent":         "HID_ID=0003:000005E0:00001200\nHID_NAME=Symbol Bar Code Scanner\n",
	})
	return root
}

func TestSysfsDiscovery(t *testing.T) {
	root := fakeSysfs(t)
	kb, err := ListInputKeyboards(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(kb) != 2 || kb[0].Path != "/dev/input/event3" || kb[1].Path != "/dev/input/event7" {
		t.Fatalf("keyboards = %v", kb)
	}
	if kb[0].VID != 0x0c2e || kb[0].PID != 0x0b61 || kb[0].Serial != "19123B4567" || !strings.Contains(kb[0].Product, "1900") {
		t.Errorf("event3 = %+v", kb[0])
	}
	tests := []struct {
		find func(string, Match) (string, error)
		m    Match
		want string
	}{
		{FindEvdev, Match{VID: 0x0c2e, PID: 0x0b61}, "/dev/input/event3"},
		{FindEvdev, Match{VID: 0x0c2e, PID: 0x0b61, Serial: "19123B4567"}, "/dev/input/event3"},
		{FindEvdev, Match{VID: 0x0c2e, PID: 0x0b61, Serial: "other"}, ""},
		{FindEvdev, Match{VID: 0x1a86, PID: 0xe026}, "/dev/input/event7"},
		{FindHidraw, Match{VID: 0x05e0, PID: 0x1200}, "/dev/hidraw1"},
		{FindHidraw, Match{VID: 0x0c2e, PID: 0x0b61, Serial: "19123B4567"}, "/dev/hidraw0"},
		{FindHidraw, Match{VID: 0x1234, PID: 0x5678}, ""},
	}
	for _, tt := range tests {
		got, err := tt.find(root, tt.m)
		if tt.want == "" {
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("find %v: %q %v, want ErrNotFound", tt.m, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("find %v = %q %v, want %q", tt.m, got, err, tt.want)
		}
	}
}

func FuzzEvdevDecoder(f *testing.F) {
	f.Add(bytes.Join(readHexReports(f, "testdata/evdev/evdev-us.hex"), nil), 24)
	f.Add(bytes.Join(readHexReports(f, "testdata/evdev/evdev-de.hex"), nil), 16)
	f.Fuzz(func(t *testing.T, data []byte, size int) {
		d := NewEvdevDecoder(LayoutFR)
		d.Size = size % 64
		for len(data) > 0 {
			n := min(50, len(data))
			d.Decode(data[:n])
			data = data[n:]
		}
	})
}

func FuzzSysfsKeyCaps(f *testing.F) {
	f.Add("1000000000007 ff9f207ac14057ff febeffdfffefffff fffffffffffffffe")
	f.Add("fffffffe")
	f.Fuzz(func(t *testing.T, s string) { isKeyboardCaps(s) })
}

func FuzzHIDUevent(f *testing.F) {
	f.Add([]byte("DRIVER=hid-generic\nHID_ID=0003:00000C2E:00000B61\nHID_NAME=Honeywell\nHID_UNIQ=19123B4567\n"))
	f.Add([]byte("HID_ID=0003:1FFFFFFFF:x\n"))
	f.Fuzz(func(t *testing.T, b []byte) { parseHIDUevent(b) })
}
