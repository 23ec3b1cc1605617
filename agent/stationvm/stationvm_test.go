package stationvm_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockhand/dockhand/drivers/label"
	"github.com/dockhand/dockhand/drivers/usbvm"
)

func TestMain(m *testing.M) { usbvm.Main(m) }

// TestStationUSB boots the USB VM once and runs the package's guest tests inside it.
// The agent renders parts of a label from a CJK font; the guest has no fonts, so the
// smallest one this machine has goes in at the path where the agent looks for it.
func TestStationUSB(t *testing.T) {
	opt := usbvm.Options{Run: "^TestGuest", Watchdog: 150 * time.Second}
	if err := usbvm.CheckQEMU(); err == nil { // else RunTests skips, saying why
		font, err := smallestFont(label.FontSearchPaths)
		if err != nil {
			t.Fatal(err)
		}
		opt.Files = []usbvm.File{{Host: font}}
	}
	usbvm.RunTests(t, opt)
}

// smallestFont returns the smallest of the CJK fonts that exist among paths.
func smallestFont(paths []string) (string, error) {
	best, size := "", int64(-1)
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		if size < 0 || st.Size() < size {
			best, size = p, st.Size()
		}
	}
	if best == "" {
		return "", fmt.Errorf("the agent renders labels with a CJK font and this machine has none (looked in %s): "+
			"apt-get install fonts-noto-cjk (or fonts-droid-fallback)", strings.Join(paths, ", "))
	}
	return best, nil
}

func TestSmallestFont(t *testing.T) {
	dir := t.TempDir()
	big, small := filepath.Join(dir, "big.ttc"), filepath.Join(dir, "small.ttf")
	if err := os.WriteFile(big, make([]byte, 300), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(small, make([]byte, 100), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.ttf")
	for _, tc := range []struct {
		name  string
		paths []string
		want  string
	}{
		{"smallest wins whatever the order", []string{big, missing, small}, small},
		{"only one there", []string{missing, big}, big},
		{"a directory is no font", []string{dir, small}, small},
		{"none", []string{missing, dir}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := smallestFont(tc.paths)
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Error(), "fonts-noto-cjk") {
					t.Fatalf("smallestFont = %q, %v; want an error naming the package to install", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("smallestFont = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
