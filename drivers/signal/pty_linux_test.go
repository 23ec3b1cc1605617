//go:build linux

package signal

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.bug.st/serial"
	"golang.org/x/sys/unix"
)

// openPty returns a pty controller and the follower opened as a serial port.
func openPty(t *testing.T) (*os.File, serial.Port) {
	t.Helper()
	ctrl, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { ctrl.Close() })
	rc, err := ctrl.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var cerr error
	if err := rc.Control(func(fd uintptr) {
		if cerr = unix.IoctlSetPointerInt(int(fd), unix.TIOCSPTLCK, 0); cerr == nil {
			n, cerr = unix.IoctlGetInt(int(fd), unix.TIOCGPTN)
		}
	}); err != nil || cerr != nil {
		t.Fatalf("pty: %v %v", err, cerr)
	}
	port, err := serial.Open(fmt.Sprintf("/dev/pts/%d", n), &serial.Mode{BaudRate: 9600})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { port.Close() })
	return ctrl, port
}

func readN(t *testing.T, f *os.File, n int) []byte {
	t.Helper()
	f.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, n)
	got := 0
	for got < n {
		k, err := f.Read(buf[got:])
		if err != nil {
			t.Fatalf("read relay bytes after %d of %d: %v", got, n, err)
		}
		got += k
	}
	return buf
}

// TestTowerOverPty plays each verdict to an LCUS board on a real pty and
// checks the bytes the board receives.
func TestTowerOverPty(t *testing.T) {
	ctrl, port := openPty(t)
	relay, err := NewLCUS(port, 4)
	if err != nil {
		t.Fatal(err)
	}
	ms := time.Millisecond
	tower := &Tower{Out: relay, Green: 1, Red: 2, Buzzer: 3, Patterns: map[Verdict]Pattern{
		Good:  {{Green: true, For: ms}},
		Bad:   {{Red: true, Buzzer: true, For: ms}, {Red: true, For: ms}, {Red: true, Buzzer: true, For: ms}},
		Alarm: {{Red: true, Buzzer: true, For: ms}},
	}}
	tests := []struct {
		v    Verdict
		want string // hex, one 4-byte command per word
	}{
		// First signal: every output is written once to reach a known state.
		{Good, "a00101a2 a00200a2 a00300a3 a00100a1"},
		{Bad, "a00201a3 a00301a4 a00300a3 a00301a4 a00200a2 a00300a3"},
		{Alarm, "a00201a3 a00301a4 a00200a2 a00300a3"},
		{Good, "a00101a2 a00100a1"},
	}
	for _, tt := range tests {
		if err := tower.Signal(context.Background(), tt.v); err != nil {
			t.Fatalf("Signal(%s): %v", tt.v, err)
		}
		want, _ := hex.DecodeString(strings.ReplaceAll(tt.want, " ", ""))
		if got := readN(t, ctrl, len(want)); !bytes.Equal(got, want) {
			t.Errorf("%s: relay got % x, want % x", tt.v, got, want)
		}
	}
}

func TestTowerRelayUnplugged(t *testing.T) {
	ctrl, port := openPty(t)
	relay, _ := NewLCUS(port, 1)
	tower := &Tower{Out: relay, Buzzer: 1, Patterns: map[Verdict]Pattern{Bad: {{Buzzer: true, For: time.Millisecond}}}}
	ctrl.Close()
	if err := tower.Signal(context.Background(), Bad); err == nil || !strings.Contains(err.Error(), "relay 1") {
		t.Fatalf("Signal on an unplugged relay = %v, want a relay write error", err)
	}
}

func TestOpenRelayPort(t *testing.T) {
	if _, err := OpenRelayPort("/dev/nonexistent-relay"); err == nil || !strings.Contains(err.Error(), "open relay port") {
		t.Errorf("OpenRelayPort(missing) = %v", err)
	}
	ctrl, port := openPty(t)
	port.Close()
	// The same pty opened by path through OpenRelayPort carries commands.
	name, err := ptsName(ctrl)
	if err != nil {
		t.Fatal(err)
	}
	p, err := OpenRelayPort(name)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	relay, _ := NewLCUS(p, 1)
	if err := relay.Set(1, true); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, ctrl, 4); !bytes.Equal(got, []byte{0xA0, 1, 1, 0xA2}) {
		t.Errorf("got % x", got)
	}
}

func ptsName(ctrl *os.File) (string, error) {
	rc, err := ctrl.SyscallConn()
	if err != nil {
		return "", err
	}
	var n int
	var cerr error
	if err := rc.Control(func(fd uintptr) { n, cerr = unix.IoctlGetInt(int(fd), unix.TIOCGPTN) }); err != nil {
		return "", err
	}
	return fmt.Sprintf("/dev/pts/%d", n), cerr
}
