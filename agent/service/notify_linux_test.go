package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// listen opens a real unixgram socket like the one systemd passes in
// $NOTIFY_SOCKET and points the variable at it.
func listen(t *testing.T, name string) *net.UnixConn {
	t.Helper()
	addr := name
	if strings.HasPrefix(name, "@") {
		addr = "\x00" + name[1:]
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		t.Fatalf("listen %s: %v", name, err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", name)
	return conn
}

// next reads one datagram, failing the test after a second without one.
func next(t *testing.T, conn *net.UnixConn) string {
	t.Helper()
	buf := make([]byte, 4096)
	if err := conn.SetReadDeadline(time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("read notification: %v", err)
	}
	return string(buf[:n])
}

func TestNotifyMessages(t *testing.T) {
	tests := []struct {
		name string
		send func() error
		want string
	}{
		{"ready", Ready, "READY=1"},
		{"stopping", Stopping, "STOPPING=1"},
		{"status", func() error { return Status("printer 1 offline") }, "STATUS=printer 1 offline"},
		{"status one line", func() error { return Status("a\nb\r\nc") }, "STATUS=a b  c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := listen(t, filepath.Join(t.TempDir(), "notify.sock"))
			if err := tt.send(); err != nil {
				t.Fatalf("send: %v", err)
			}
			if got := next(t, conn); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNotifyAbstractSocket(t *testing.T) {
	conn := listen(t, fmt.Sprintf("@dockhand-test-%d-%d", os.Getpid(), time.Now().UnixNano()))
	if err := Ready(); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	if got := next(t, conn); got != "READY=1" {
		t.Errorf("got %q, want READY=1", got)
	}
}

func TestNotifyWithoutSocketDoesNothing(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	if err := Ready(); err != nil {
		t.Errorf("Ready without NOTIFY_SOCKET: %v", err)
	}
}

func TestNotifyDeadSocketFails(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", filepath.Join(t.TempDir(), "gone.sock"))
	err := Ready()
	if err == nil || !strings.Contains(err.Error(), "sd_notify READY=1") {
		t.Errorf("Ready to a missing socket: got %v, want an sd_notify error", err)
	}
}

func TestWatchdogDisabled(t *testing.T) {
	tests := []struct {
		name, usec, pid string
	}{
		{"no variable", "", ""},
		{"other process", "1000", strconv.Itoa(os.Getpid() + 1)},
		{"not a number", "soon", ""},
		{"zero", "0", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := listen(t, filepath.Join(t.TempDir(), "notify.sock"))
			t.Setenv("WATCHDOG_USEC", tt.usec)
			t.Setenv("WATCHDOG_PID", tt.pid)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- WatchdogLoop(ctx, nil) }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("WatchdogLoop: %v", err)
				}
			case <-time.After(time.Second):
				t.Fatal("WatchdogLoop kept running without a watchdog")
			}
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
			if n, _ := conn.Read(make([]byte, 64)); n > 0 {
				t.Error("a notification was sent without a watchdog")
			}
		})
	}
}

func TestWatchdogPingsOnlyWhileHealthy(t *testing.T) {
	conn := listen(t, filepath.Join(t.TempDir(), "notify.sock"))
	t.Setenv("WATCHDOG_USEC", "2000") // ping every millisecond
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))

	var broken atomic.Bool
	check := func(context.Context) error {
		if broken.Load() {
			return errors.New("store not answering")
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- WatchdogLoop(ctx, check) }()

	for range 3 {
		if got := next(t, conn); got != "WATCHDOG=1" {
			t.Fatalf("healthy: got %q, want WATCHDOG=1", got)
		}
	}
	broken.Store(true)
	// Pings already in flight may arrive before the status line.
	for {
		got := next(t, conn)
		if got == "WATCHDOG=1" {
			continue
		}
		if want := "STATUS=unhealthy: health check: store not answering"; got != want {
			t.Fatalf("broken: got %q, want %q", got, want)
		}
		break
	}
	// While broken, nothing more is sent: the watchdog starves.
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if n, err := conn.Read(make([]byte, 64)); err == nil {
		t.Fatalf("sent %d bytes while unhealthy", n)
	}
	broken.Store(false)
	if got := next(t, conn); got != "STATUS=running" {
		t.Fatalf("recovered: got %q, want STATUS=running", got)
	}
	if got := next(t, conn); got != "WATCHDOG=1" {
		t.Fatalf("recovered: got %q, want WATCHDOG=1", got)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("WatchdogLoop after cancel: %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("WatchdogLoop did not return after cancel")
	}
}

// FuzzParseWatchdog feeds the watchdog variables, which come from outside
// the process: parsing never panics, and a configured watchdog always has a
// positive interval.
func FuzzParseWatchdog(f *testing.F) {
	for _, s := range []string{"30000000", "0", "-1", "", "1e6", "18446744073709551616", "9223372036854775807", " 5"} {
		f.Add(s, "")
	}
	f.Add("1000", "42")
	f.Fuzz(func(t *testing.T, usec, pid string) {
		d, ok := parseWatchdog(usec, pid, 42)
		if ok && d <= 0 {
			t.Errorf("WATCHDOG_USEC=%q: enabled with interval %v", usec, d)
		}
		if !ok && d != 0 {
			t.Errorf("WATCHDOG_USEC=%q: disabled but interval %v", usec, d)
		}
	})
}
