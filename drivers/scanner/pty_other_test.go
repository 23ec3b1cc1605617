//go:build !linux

package scanner

import (
	"os"
	"testing"

	"go.bug.st/serial"
)

type ptyPair struct {
	ctrl *os.File
	name string
}

func newPty(t testing.TB) *ptyPair {
	t.Skip("pseudo-terminal tests run on Linux")
	return nil
}

func (p *ptyPair) openPort(t testing.TB) serial.Port { return nil }
func (p *ptyPair) write(t testing.TB, s string)      {}
