package usbvm_test

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/dockhand/dockhand/drivers/usbvm"
)

// TestLoopbackUpWhenUp: on a machine whose lo is already up, LoopbackUp changes nothing
// and needs no privileges. (TestGuestLoopback brings a down lo up inside the VM.)
func TestLoopbackUpWhenUp(t *testing.T) {
	if usbvm.InGuest() {
		t.Skip("on the host only")
	}
	b, err := os.ReadFile("/sys/class/net/lo/flags")
	if err != nil {
		t.Skip("no /sys/class/net/lo here:", err)
	}
	flags, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(string(b)), "0x"), 16, 32)
	if err != nil {
		t.Fatal(err)
	}
	if flags&1 == 0 {
		t.Skip("lo is down on this machine; bringing it up needs root (TestGuestLoopback covers it)")
	}
	if err := usbvm.LoopbackUp(); err != nil {
		t.Fatalf("LoopbackUp with lo up = %v, want nil", err)
	}
}

// TestGuestLoopback brings up the guest's loopback interface and talks to itself over TCP
// on 127.0.0.1.
func TestGuestLoopback(t *testing.T) {
	guest(t)
	if err := usbvm.LoopbackUp(); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.1 after LoopbackUp: %v", err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Write([]byte("hello"))
		c.Close()
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial 127.0.0.1: %v", err)
	}
	defer c.Close()
	buf := make([]byte, 5)
	if _, err := c.Read(buf); err != nil || string(buf) != "hello" {
		t.Fatalf("read %q, %v; want hello", buf, err)
	}
	if err := usbvm.LoopbackUp(); err != nil {
		t.Errorf("LoopbackUp a second time = %v, want nil", err)
	}
}
