package usbvm

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// LoopbackUp brings up the loopback interface lo, which the guest's kernel leaves down:
// guest tests that listen on or dial 127.0.0.1 (an HTTP server, an MQTT broker) call it
// first. The kernel gives lo its 127.0.0.1/8 address as it comes up. It does nothing when
// lo is already up.
func LoopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("bring up lo: socket: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("bring up lo: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring up lo: read its flags: %w", err)
	}
	flags := ifr.Uint16()
	if flags&unix.IFF_UP != 0 {
		return nil
	}
	ifr.SetUint16(flags | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring up lo: set its flags: %w", err)
	}
	return nil
}
