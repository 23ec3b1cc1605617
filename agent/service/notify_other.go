//go:build !linux

package service

import "time"

// notify does nothing where there is no systemd.
func notify(string) error { return nil }

// watchdogInterval reports that no watchdog is configured.
func watchdogInterval() (time.Duration, bool) { return 0, false }
