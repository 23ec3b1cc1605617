// Package stationvm proves that a whole packing station works on real USB devices
// through the real kernel paths. Its tests boot the USB VM (drivers/usbvm) and run,
// inside it, the agent exactly as the daemon builds it from a YAML configuration: a
// CDC-ACM barcode scanner found by VID/PID (/dev/ttyACM0), an Xprinter TSPL label
// printer found by VID/PID (/dev/usb/lp0, the kernel's usblp driver), the embedded
// broker and the hub simulator with sample orders. The VM's gadget side plays the
// packer and the printer: it types codes on /dev/ttyGS0 and reads the labels that
// arrive on /dev/g_printer0, answering the printer's status questions.
//
// What the guest test checks: a scanned-twice order is verified and its waybill label
// (Code 128 of the waybill number, Chinese text in GB18030) arrives on the printer once;
// a wrong item is refused with the contract's wrong_item reason and prints nothing; the
// printer's cable is pulled and plugged back, the agent reports it offline and then
// ready in its hub status, and the next verified order's label still arrives; a parcel
// verified while the printer is away gets its label, once, when the printer is back.
// Every event is checked where the hub sees it (the hub simulator), after the outbox
// and the broker.
//
// The package has no code of its own, only these tests; `go test ./agent/stationvm/`
// runs them (about a minute; it skips, loudly, only where the machine cannot boot the VM).
package stationvm
