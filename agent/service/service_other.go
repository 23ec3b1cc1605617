//go:build !windows

package service

import (
	"context"
	"fmt"
	"os"
	"strings"
)

// DataDir is where the agent keeps its store: the directory systemd created
// for the unit's StateDirectory= ($STATE_DIRECTORY), else /var/lib/dockhand.
func DataDir() string {
	if d, _, _ := strings.Cut(os.Getenv("STATE_DIRECTORY"), ":"); d != "" {
		return d
	}
	return "/var/lib/dockhand"
}

// DefaultConfigPath is the configuration file the packaged service reads.
func DefaultConfigPath() string {
	return "/etc/dockhand/dockhand.yaml"
}

// systemctl maps Control's words to the systemctl command that does the job.
var systemctl = map[string]string{
	"install":   "systemctl enable --now dockhand",
	"uninstall": "systemctl disable --now dockhand",
	"start":     "systemctl start dockhand",
	"stop":      "systemctl stop dockhand",
	"restart":   "systemctl restart dockhand",
}

// Control is not how the service is managed here: the package installs the
// systemd unit. It returns ErrUnsupported with the command to use instead.
func Control(action, _ string) error {
	if err := checkAction(action); err != nil {
		return err
	}
	return fmt.Errorf("service %s: %w: the dockhand package installs a systemd unit; run %q instead",
		action, ErrUnsupported, systemctl[action])
}

// RunService returns ErrNotService: outside Windows the service manager
// (systemd) runs the agent as an ordinary foreground process.
func RunService(string, func(ctx context.Context) error) error {
	return ErrNotService
}
