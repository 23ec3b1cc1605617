package transport

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"testing"
)

// The errno a device node gives maps to words an operator can act on. (Busy
// and permission errors cannot be produced for real here: the tests run as
// root, which bypasses both exclusive opens and file modes.)
func TestErrnoVocabulary(t *testing.T) {
	wrap := func(errno syscall.Errno) error {
		return &fs.PathError{Op: "open", Path: "/dev/x", Err: errno}
	}
	tests := []struct {
		err        error
		usblp, ser error
	}{
		{wrap(syscall.ENOENT), ErrNotFound, ErrNotFound},
		{wrap(syscall.ENXIO), ErrNotFound, ErrNotFound},
		{wrap(syscall.ENODEV), ErrDisconnected, ErrNotFound},
		{wrap(syscall.EBUSY), ErrBusy, ErrBusy},
		{wrap(syscall.EACCES), ErrPermission, ErrPermission},
		{wrap(syscall.ENOTTY), ErrUnsupported, ErrOffline},
		{fmt.Errorf("write: %w", os.ErrDeadlineExceeded), ErrTimeout, ErrOffline},
		{wrap(syscall.EIO), ErrDisconnected, ErrOffline},
	}
	for _, tt := range tests {
		if got := usblpErr("open", "usblp:///dev/x", tt.err); !errors.Is(got, tt.usblp) || !errors.Is(got, tt.err) {
			t.Errorf("usblp %v -> %v, want %v (and the cause kept)", tt.err, got, tt.usblp)
		}
		if got := serialOpenErr("serial:///dev/x", tt.err); !errors.Is(got, tt.ser) {
			t.Errorf("serial %v -> %v, want %v", tt.err, got, tt.ser)
		}
	}
}
