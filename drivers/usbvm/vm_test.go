package usbvm_test

import (
	"testing"
	"time"

	"github.com/dockhand/dockhand/drivers/usbvm"
)

func TestMain(m *testing.M) { usbvm.Main(m) }

// TestUSBVM boots the VM once and runs every TestGuest* test of this package inside it.
func TestUSBVM(t *testing.T) {
	usbvm.RunTests(t, usbvm.Options{Run: "^TestGuest", CGO: true, Watchdog: 100 * time.Second})
}

// guest returns the rig inside the VM and skips on the host, where TestUSBVM runs the
// test inside the VM instead.
func guest(t *testing.T) *usbvm.Rig {
	t.Helper()
	r, err := usbvm.Guest()
	if err != nil {
		t.Skip("runs inside the USB VM (TestUSBVM boots it)")
	}
	return r
}
