//go:build !linux

package usbvm

import (
	"fmt"
	"os"
	"testing"
)

// Rig is the guest's set of gadgets; the guest exists only on Linux.
type Rig struct{}

// Guest returns ErrNotGuest: the USB VM's guest side is Linux-only.
func Guest() (*Rig, error) { return nil, ErrNotGuest }

func guestMain(*testing.M) {
	fmt.Printf("%s%v\n", setupMarker, ErrUnsupported)
	os.Exit(3)
}
