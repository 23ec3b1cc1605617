// Package ptytest makes real pseudo-terminal pairs for tests, demos and
// benchmarks: the controller side plays a serial device (a scanner typing codes,
// a relay, a printer answering), the follower is a real tty path that the code
// under test opens with go.bug.st/serial like any serial port. Closing the
// controller is a faithful unplug.
package ptytest
