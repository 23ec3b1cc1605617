//go:build darwin && !cgo

package transport

// ListSerialPorts fails with [ErrUnsupported]: on macOS the serial
// enumerator needs cgo, and this program was built without it.
func ListSerialPorts() ([]SerialPortInfo, error) {
	return nil, newErrf("list", "serial ports", ErrUnsupported, "this macOS build has no cgo; serial ports can still be opened by path")
}
