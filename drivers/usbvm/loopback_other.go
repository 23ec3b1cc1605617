//go:build !linux

package usbvm

// LoopbackUp brings up the guest's loopback interface; the guest exists only on Linux.
func LoopbackUp() error { return ErrUnsupported }
