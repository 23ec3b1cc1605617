package usbvm

import "errors"

var (
	// ErrUnsupported is returned by guest-side calls on a platform without USB gadget support.
	ErrUnsupported = errors.New("usbvm: not supported on this platform")

	// ErrCannotRun wraps every reason why this machine cannot boot the VM at all (no QEMU, no
	// access to Debian's packages). RunTests skips on it; every other error is a failure.
	ErrCannotRun = errors.New("usbvm: this machine cannot run the USB VM")

	// ErrNotGuest is returned by [Guest] when the process is not running inside the USB VM.
	ErrNotGuest = errors.New("usbvm: not running inside the USB VM")
)
