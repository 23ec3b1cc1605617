package signal

import (
	"fmt"

	"go.bug.st/serial"
)

// OpenRelayPort opens the serial port of an LCUS relay board at the board's
// fixed 9600 baud 8N1. The caller closes it; NewLCUS writes to it.
func OpenRelayPort(path string) (serial.Port, error) {
	p, err := serial.Open(path, &serial.Mode{BaudRate: 9600})
	if err != nil {
		return nil, fmt.Errorf("open relay port %s: %w", path, err)
	}
	return p, nil
}
