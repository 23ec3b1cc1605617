package service

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBinaryTalksToSystemd runs a built dockhand binary the way the packaged
// systemd unit does (Type=notify, WatchdogSec=) and checks that it reports
// READY, feeds the watchdog and reports STOPPING on SIGTERM. The unit relies
// on all three. packaging/test.sh sets DOCKHAND_BIN to the binary installed
// from the .deb; without it the test is skipped.
func TestBinaryTalksToSystemd(t *testing.T) {
	bin := os.Getenv("DOCKHAND_BIN")
	if bin == "" {
		t.Skip("DOCKHAND_BIN not set; packaging/test.sh runs this against the packaged binary")
	}
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn := listen(t, sock)

	var stderr bytes.Buffer
	cmd := exec.Command(bin, "run", "-listen", "127.0.0.1:0", "-data", t.TempDir())
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=2000000")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("agent output:\n%s", stderr.String())
		}
	})

	// await reads notifications until want arrives or the time is up.
	await := func(want string, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		buf := make([]byte, 4096)
		for {
			_ = conn.SetReadDeadline(deadline)
			n, err := conn.Read(buf)
			if err != nil {
				t.Fatalf("no %s from the agent within %s (%v): the systemd unit needs it; "+
					"call service.Ready() once serving, service.WatchdogLoop(ctx, check) while running "+
					"and service.Stopping() on shutdown", want, within, err)
			}
			if strings.TrimSpace(string(buf[:n])) == want {
				return
			}
		}
	}
	await("READY=1", 30*time.Second)
	await("WATCHDOG=1", 3*time.Second)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	await("STOPPING=1", 10*time.Second)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("agent exit after SIGTERM: %v (the unit restarts it only on failure; a clean stop must exit 0)", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("agent still running 30s after SIGTERM (the unit's TimeoutStopSec)")
	}
}
