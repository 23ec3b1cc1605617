//go:build !linux

package transport

import "time"

// waitAcked returns at once: only Linux exposes the unacknowledged byte
// count of a socket.
func (p *tcpPort) waitAcked(time.Duration) error { return nil }
