package usbvm_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/dockhand/dockhand/drivers/scanner"
	"github.com/dockhand/dockhand/drivers/usbvm"
)

func TestKeyboardReports(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want [][]byte
		err  string
	}{
		{in: "a", want: [][]byte{{0, 0, 0x04, 0, 0, 0, 0, 0}, make([]byte, 8)}},
		{in: "Z", want: [][]byte{{usbvm.ModLeftShift, 0, 0x1d, 0, 0, 0, 0, 0}, make([]byte, 8)}},
		{in: "0\r", want: [][]byte{{0, 0, 0x27, 0, 0, 0, 0, 0}, make([]byte, 8), {0, 0, usbvm.UsageEnter, 0, 0, 0, 0, 0}, make([]byte, 8)}},
		{in: "?", want: [][]byte{{usbvm.ModLeftShift, 0, 0x38, 0, 0, 0, 0, 0}, make([]byte, 8)}},
		{in: "é", err: "cannot be typed"},
		{in: "\x1d", err: "cannot be typed"},
	} {
		got, err := usbvm.KeyboardReports(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("KeyboardReports(%q) = %v, want error %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Fatalf("KeyboardReports(%q) = %x, %v; want %x", tc.in, got, err, tc.want)
		}
		for i := range got {
			if !bytes.Equal(got[i], tc.want[i]) {
				t.Errorf("KeyboardReports(%q)[%d] = % x, want % x", tc.in, i, got[i], tc.want[i])
			}
		}
	}
}

// TestKeyboardReportsDecode checks the typing against the scanner package's decoder, on
// every printable ASCII character: what the gadget types in the VM is what a US-layout
// scanner types.
func TestKeyboardReportsDecode(t *testing.T) {
	var all strings.Builder
	for c := byte(' '); c <= '~'; c++ {
		all.WriteByte(c)
	}
	us, err := scanner.LayoutByName("us")
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{all.String(), "SF1234567890123", "aa11", "Order#A-03-2/07 {x}"} {
		reports, err := usbvm.KeyboardReports(code + "\n")
		if err != nil {
			t.Fatal(err)
		}
		dec := scanner.NewKeyboardDecoder(us)
		var got []string
		for _, r := range reports {
			frames, err := dec.Decode(r)
			if err != nil {
				t.Fatalf("decode % x: %v", r, err)
			}
			for _, f := range frames {
				if f.Problem != "" {
					t.Fatalf("frame problem %q", f.Problem)
				}
				got = append(got, string(f.Data))
			}
		}
		if len(got) != 1 || got[0] != code {
			t.Errorf("typed %q, decoder got %q", code, got)
		}
	}
}
