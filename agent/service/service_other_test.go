//go:build !windows

package service

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestControlPointsToSystemctl(t *testing.T) {
	tests := []struct {
		action, want string
	}{
		{"install", "systemctl enable --now dockhand"},
		{"uninstall", "systemctl disable --now dockhand"},
		{"start", "systemctl start dockhand"},
		{"stop", "systemctl stop dockhand"},
		{"restart", "systemctl restart dockhand"},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			err := Control(tt.action, "/etc/dockhand/dockhand.yaml")
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("got %v, want ErrUnsupported", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%q does not tell the operator to run %q", err, tt.want)
			}
		})
	}
}

func TestControlUnknownAction(t *testing.T) {
	err := Control("reinstall", "")
	if err == nil || errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "install, uninstall") {
		t.Errorf("got %v, want an unknown-action error listing the actions", err)
	}
}

func TestRunServiceOutsideWindows(t *testing.T) {
	ran := false
	err := RunService(Name, func(context.Context) error { ran = true; return nil })
	if !errors.Is(err, ErrNotService) || ran {
		t.Errorf("got %v (ran=%v), want ErrNotService without running", err, ran)
	}
}

func TestDataDir(t *testing.T) {
	tests := []struct {
		env, want string
	}{
		{"", "/var/lib/dockhand"},
		{"/var/lib/dockhand-test", "/var/lib/dockhand-test"},
		{"/srv/a:/srv/b", "/srv/a"},
	}
	for _, tt := range tests {
		t.Setenv("STATE_DIRECTORY", tt.env)
		if got := DataDir(); got != tt.want {
			t.Errorf("STATE_DIRECTORY=%q: DataDir() = %q, want %q", tt.env, got, tt.want)
		}
	}
}
