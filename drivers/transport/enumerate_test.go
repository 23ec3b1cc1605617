package transport

import (
	"testing"
)

func TestSerialPortURL(t *testing.T) {
	for path, want := range map[string]string{
		"/dev/ttyUSB0":                        "serial:///dev/ttyUSB0?baud=9600",
		"/dev/serial/by-id/usb-GP 58 (1)-if0": "serial:///dev/serial/by-id/usb-GP%2058%20%281%29-if0?baud=9600",
		"COM3":                                "serial://COM3?baud=9600",
	} {
		p := SerialPortInfo{Path: path}
		if got := p.URL(); got != want {
			t.Errorf("URL() for %q = %q, want %q", path, got, want)
		}
		tg, err := ParseURL(p.URL())
		if err != nil || tg.(*SerialTarget).Path != path {
			t.Errorf("%q parses to %v, %v; want the path %q", p.URL(), tg, err, path)
		}
	}
}

func TestListSerialPorts(t *testing.T) {
	ports, err := ListSerialPorts()
	if err != nil {
		t.Fatalf("ListSerialPorts on this machine: %v", err)
	}
	for _, p := range ports {
		if p.Path == "" {
			t.Errorf("port without a path: %+v", p)
		}
		tg, err := ParseURL(p.URL())
		if err != nil {
			t.Errorf("suggested address %q does not parse: %v", p.URL(), err)
			continue
		}
		if st, ok := tg.(*SerialTarget); !ok || st.Path != p.Path {
			t.Errorf("suggested address %q names %v, want %s", p.URL(), tg, p.Path)
		}
	}
}
