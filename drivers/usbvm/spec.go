package usbvm

// GadgetSpec describes a USB device to build with configfs.
type GadgetSpec struct {
	Name                      string // directory under /sys/kernel/config/usb_gadget
	UDC                       string // e.g. dummy_udc.0
	VID, PID                  uint16
	Class, SubClass, Protocol uint8 // device class; 0 means "per interface"
	Manufacturer, Product     string
	Serial                    string
	Functions                 []Function
}

// Function is one gadget function (an interface set the host binds a driver to).
type Function struct {
	Kind     string // "printer", "acm", "hid"
	Instance string // e.g. "usb0"
	Attrs    []Attr // written in order before the function is linked into the config
}

// Attr is one configfs attribute of a function.
type Attr struct {
	Name  string
	Value []byte
}

// IDs and identity of the guest's devices. The printer answers the IEEE 1284 device id
// request with PrinterDeviceID, as an Xprinter XP-470B does.
const (
	PrinterVID, PrinterPID   = 0x0483, 0x5743
	SerialVID, SerialPID     = 0x0c2e, 0x0b61
	KeyboardVID, KeyboardPID = 0x0c2e, 0x0b67

	PrinterDeviceID = "MFG:Xprinter;MDL:XP-470B;CMD:TSPL,ESCPOS;"
)

// BootKeyboardReportDescriptor is the HID report descriptor of a boot-protocol keyboard:
// 8-byte input reports (modifiers, reserved, six key usages), 1-byte LED output report.
var BootKeyboardReportDescriptor = []byte{
	0x05, 0x01, 0x09, 0x06, 0xa1, 0x01, 0x05, 0x07, 0x19, 0xe0, 0x29, 0xe7, 0x15, 0x00,
	0x25, 0x01, 0x75, 0x01, 0x95, 0x08, 0x81, 0x02, 0x95, 0x01, 0x75, 0x08, 0x81, 0x03,
	0x95, 0x05, 0x75, 0x01, 0x05, 0x08, 0x19, 0x01, 0x29, 0x05, 0x91, 0x02, 0x95, 0x01,
	0x75, 0x03, 0x91, 0x03, 0x95, 0x06, 0x75, 0x08, 0x15, 0x00, 0x25, 0x65, 0x05, 0x07,
	0x19, 0x00, 0x29, 0x65, 0x81, 0x00, 0xc0,
}

// PrinterSpec is the label printer: one printer-class interface with a bulk OUT and a bulk
// IN (back channel) endpoint.
func PrinterSpec() GadgetSpec {
	return GadgetSpec{
		Name: "printer", UDC: "dummy_udc.0", VID: PrinterVID, PID: PrinterPID,
		Manufacturer: "Xprinter", Product: "XP-470B", Serial: "USBVM-PRN-1",
		Functions: []Function{{Kind: "printer", Instance: "usb0", Attrs: []Attr{
			// The kernel's printer function (6.1) sends strlen(pnp_string) bytes including
			// the 2-byte length prefix, so it cuts the last two characters: two bytes of
			// padding make the host receive exactly PrinterDeviceID with a correct length.
			{"pnp_string", []byte(PrinterDeviceID + "  ")},
			{"q_len", []byte("10")},
		}}},
	}
}

// SecondPrinterSpec is a printer identical to PrinterSpec but for its serial number,
// on the spare UDC: two printers of one model on one bench.
func SecondPrinterSpec() GadgetSpec {
	s := PrinterSpec()
	s.Name, s.UDC, s.Serial = "printer2", "dummy_udc.3", "USBVM-PRN-2"
	return s
}

// SerialSpec is a barcode scanner in USB-serial (CDC-ACM) mode.
func SerialSpec() GadgetSpec {
	return GadgetSpec{
		Name: "serial", UDC: "dummy_udc.1", VID: SerialVID, PID: SerialPID,
		Class: 0xef, SubClass: 0x02, Protocol: 0x01, // IAD: the two ACM interfaces belong together
		Manufacturer: "Honeywell", Product: "1900 USB Serial", Serial: "USBVM-SER-1",
		Functions: []Function{{Kind: "acm", Instance: "usb0"}},
	}
}

// KeyboardSpec is a barcode scanner in HID boot-keyboard mode.
func KeyboardSpec() GadgetSpec {
	return GadgetSpec{
		Name: "keyboard", UDC: "dummy_udc.2", VID: KeyboardVID, PID: KeyboardPID,
		Manufacturer: "Honeywell", Product: "1900 Keyboard", Serial: "USBVM-KBD-1",
		Functions: []Function{{Kind: "hid", Instance: "usb0", Attrs: []Attr{
			{"protocol", []byte("1")},
			{"subclass", []byte("1")},
			{"report_length", []byte("8")},
			{"report_desc", BootKeyboardReportDescriptor},
		}}},
	}
}
