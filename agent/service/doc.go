// Package service is Dockhand's glue to the operating system's service
// manager: it tells systemd when the agent is ready, stopping or still alive
// (sd_notify), and lets the same binary install, start, stop and run itself as
// a Windows service. Each operating system has its own file; on systems
// without a service manager the notifications do nothing and the service
// controls return ErrUnsupported, so the caller never needs a build tag.
//
// The agent's main calls RunService first (it returns ErrNotService unless
// the Windows service manager started the process), then Ready once its
// store, hub link and web UI are up, WatchdogLoop for as long as it runs, and
// Stopping when its context is cancelled.
package service

import (
	"errors"
)

// Name is the service's name in systemd and in the Windows service manager.
const Name = "dockhand"

// DisplayName is the name shown to people in the Windows Services list.
const DisplayName = "Dockhand warehouse agent"

// Description explains the service in the Windows Services list.
const Description = "Drives the packing bench's scanners and label printers and syncs orders with the hub."

var (
	// ErrNotService is returned by RunService when the process was not
	// started by the operating system's service manager; the caller then
	// runs in the foreground.
	ErrNotService = errors.New("not started by the service manager")

	// ErrUnsupported is returned by Control where the binary cannot manage
	// its own service; the message says what to use instead.
	ErrUnsupported = errors.New("not supported on this system")
)

// Actions lists the words Control accepts.
var Actions = []string{"install", "uninstall", "start", "stop", "restart", "status"}
