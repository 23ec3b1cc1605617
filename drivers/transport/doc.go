// Package transport carries bytes between Dockhand and a device: a label or
// receipt printer on the network, on a serial line, on USB through the Linux
// kernel's usblp driver, behind the Windows spooler, or a plain file for
// print tests.
//
// Every transport hides behind the small [Port] interface, and every kind of
// address is a URL whose scheme picks the transport from a registry:
//
//	tcp://10.0.0.21:9100                       raw TCP (JetDirect)
//	serial:///dev/ttyUSB0?baud=9600            serial line (bits, parity, stop, flow)
//	usblp:///dev/usb/lp0                       Linux usblp node
//	usblp://?vid=0483&pid=5743&serial=XYZ      the same printer wherever it is plugged in
//	winspool://Xprinter XP-470B                Windows spooler, RAW data type
//	file:///var/tmp/out.prn                    append to a file
//
// Drivers (the TSPL and ESC/POS encoders) are handed an open Port and never
// see a device path. A [Supervisor] keeps one device open across unplugs and
// reboots, reopening it with capped exponential backoff, and tells its owner
// whether the printer is connected or offline.
//
// Errors are wrapped around a small vocabulary of sentinels ([ErrOffline],
// [ErrDisconnected], [ErrBusy], [ErrTimeout], [ErrUnsupported], ...) whose
// texts are worded for the people at the packing bench; [Retryable] tells a
// device that may come back from a configuration mistake.
package transport
