//go:build !linux

package scanner

import (
	"fmt"
	"os"
)

// OpenEvdev is only available on Linux.
func OpenEvdev(path string) (*os.File, error) {
	return nil, fmt.Errorf("open input device %s: evdev exists only on Linux: %w", path, ErrUnsupported)
}

// OpenHidraw is only available on Linux.
func OpenHidraw(path string) (*os.File, error) {
	return nil, fmt.Errorf("open hidraw device %s: hidraw exists only on Linux: %w", path, ErrUnsupported)
}
