package service

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Ready tells the service manager that start-up has finished: the store is
// open and the agent is serving. Under systemd's Type=notify the unit counts
// as started only from this moment. Outside a service manager it does nothing.
func Ready() error {
	return notify("READY=1")
}

// Stopping tells the service manager that a clean shutdown has begun, so it
// waits for the exit instead of reporting a failure.
func Stopping() error {
	return notify("STOPPING=1")
}

// Status sets the one-line status the service manager shows next to the
// service (systemctl status). Newlines are replaced by spaces.
func Status(msg string) error {
	msg = strings.NewReplacer("\n", " ", "\r", " ").Replace(msg)
	return notify("STATUS=" + msg)
}

// WatchdogLoop keeps the service manager's watchdog fed until ctx ends. It
// pings at half the interval the manager asked for; before each ping it calls
// check (when not nil) and skips the ping while check fails, so a hung agent
// is restarted by the manager rather than kept alive by a timer. When no
// watchdog is configured it returns nil at once. It returns nil when ctx ends.
func WatchdogLoop(ctx context.Context, check func(context.Context) error) error {
	interval, ok := watchdogInterval()
	if !ok {
		return nil
	}
	period := interval / 2
	if period <= 0 {
		period = time.Millisecond
	}
	t := time.NewTicker(period)
	defer t.Stop()
	healthy := true
	for {
		err := healthCheck(ctx, check)
		switch {
		case err != nil && healthy:
			healthy = false
			_ = Status("unhealthy: " + err.Error())
		case err == nil && !healthy:
			healthy = true
			_ = Status("running")
		}
		if err == nil {
			// A lost ping is not fatal: the next one follows shortly, and
			// systemd acts only after a whole interval without one.
			_ = notify("WATCHDOG=1")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// healthCheck runs check, when there is one, naming the failure.
func healthCheck(ctx context.Context, check func(context.Context) error) error {
	if check == nil {
		return nil
	}
	if err := check(ctx); err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	return nil
}
