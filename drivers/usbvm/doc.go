// Package usbvm gives tests real Linux USB devices on machines whose kernel has no USB.
//
// A normal `go test` on the host builds the calling package's test binary statically,
// packs it as /init into an initramfs together with the USB kernel modules taken from
// Debian's linux-image-amd64 package, and boots it in a small QEMU virtual machine. Inside
// the guest the same binary loads dummy_hcd, libcomposite and the host drivers (usblp,
// cdc-acm, usbhid, evdev), builds USB gadgets through configfs — a TSPL/ESC-POS label
// printer, a CDC-ACM serial scanner and a HID keyboard scanner — and runs the in-VM tests
// against the real kernel nodes (/dev/usb/lp0, /dev/ttyACM0, /dev/hidraw0,
// /dev/input/eventN), while the gadget side (/dev/g_printer0, /dev/ttyGS0, /dev/hidg0)
// plays the device. The guest's `go test -v` output is streamed back over the serial
// console and each guest test is reported as a subtest on the host.
//
// A test package uses it with two functions:
//
//	func TestMain(m *testing.M) { usbvm.Main(m) }
//
//	func TestUSBVM(t *testing.T) { usbvm.RunTests(t, usbvm.Options{Run: "^TestGuest"}) }
//
// and guest tests call [Guest] to reach the gadgets. Host-only parts (kernel download,
// initramfs, QEMU) work on any Linux host with qemu-system-x86_64 and apt; the guest parts
// are Linux-only and return [ErrUnsupported] elsewhere.
package usbvm
