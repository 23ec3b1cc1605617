package usbvm

import (
	"context"
	"strings"
	"testing"
)

func TestBootRejectsBadConfig(t *testing.T) {
	k := &Kernel{Dir: t.TempDir(), Image: "vmlinuz"}
	for _, tc := range []struct {
		cfg  BootConfig
		want string
	}{
		{BootConfig{Kernel: k, Initramfs: "x", InitArgs: []string{"-test.run=A B"}}, "cannot go on a kernel command line"},
		{BootConfig{Kernel: k, Initramfs: "x", InitArgs: []string{`-x="y"`}}, "cannot go on a kernel command line"},
		{BootConfig{Kernel: k, Initramfs: "x", InitArgs: []string{""}}, "cannot go on a kernel command line"},
		{BootConfig{Initramfs: "x"}, "a kernel and an initramfs are required"},
	} {
		_, err := Boot(context.Background(), tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Boot(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func TestQuote(t *testing.T) {
	got := quote([]string{"--- FAIL: TestX (0.00s)", "ok  \tpkg"})
	if got != "guest| --- FAIL: TestX (0.00s)\nguest| ok  \tpkg" {
		t.Errorf("quote = %q", got)
	}
	if tail([]string{"a", "b", "c"}, 2) != "guest| b\nguest| c" {
		t.Errorf("tail = %q", tail([]string{"a", "b", "c"}, 2))
	}
}
