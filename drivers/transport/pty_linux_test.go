package transport

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY creates a pseudo-terminal pair: the controller plays the device,
// the follower's path is what the serial transport opens. Closing the
// controller is an unplug.
func openPTY(t *testing.T) (controller *os.File, follower string) {
	t.Helper()
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(fd)
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		unix.Close(fd)
		t.Fatalf("pty number: %v", err)
	}
	controller = os.NewFile(uintptr(fd), "ptmx")
	t.Cleanup(func() { controller.Close() })
	return controller, fmt.Sprintf("/dev/pts/%d", n)
}

// symlinkAtomic points link at target, replacing an older link in one step.
func symlinkAtomic(target, link string) error {
	tmp := link + ".new"
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	return os.Rename(tmp, link)
}

func (b *pending) size() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.buf)
}
