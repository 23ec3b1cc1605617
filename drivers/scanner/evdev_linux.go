package scanner

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// evIOCGrab is EVIOCGRAB, _IOW('E', 0x90, int).
const evIOCGrab = 0x40044590

// OpenEvdev opens an input event node and grabs it exclusively, so the
// scanner's keystrokes reach only this program and never the focused
// window. Closing the file releases the grab. The file supports read
// deadlines, so HIDReader.Run stops promptly on cancellation.
func OpenEvdev(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("open input device %s: %w", path, err)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open input device %s: %w", path, err)
	}
	var gerr error
	err = rc.Control(func(fd uintptr) { gerr = unix.IoctlSetInt(int(fd), evIOCGrab, 1) })
	if err == nil {
		err = gerr
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("grab input device %s (another program may hold it): %w", path, err)
	}
	return f, nil
}

// OpenHidraw opens a /dev/hidrawN node for reading reports. The file
// supports read deadlines.
func OpenHidraw(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open hidraw device %s: %w", path, err)
	}
	return f, nil
}
