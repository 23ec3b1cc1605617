package usbvm_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"go.bug.st/serial"

	"github.com/dockhand/dockhand/drivers/scanner"
	"github.com/dockhand/dockhand/drivers/usbvm"
)

// typeOnSerial sends s from the serial scanner's gadget end (/dev/ttyGS0).
func typeOnSerial(t *testing.T, g *usbvm.Gadget, s string) {
	t.Helper()
	node, err := g.FunctionNode()
	if err != nil {
		t.Fatal(err)
	}
	f, err := usbvm.OpenRawTTY(node)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatalf("serial gadget write: %v", err)
	}
}

// typeOnKeyboard types s on the keyboard scanner's gadget end (/dev/hidg0), one boot
// keyboard report per key press and release, as a US-layout scanner does.
func typeOnKeyboard(t *testing.T, g *usbvm.Gadget, s string) {
	t.Helper()
	reports, err := usbvm.KeyboardReports(s)
	if err != nil {
		t.Fatal(err)
	}
	node, err := g.FunctionNode()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(node, os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("open keyboard gadget: %v", err)
	}
	defer f.Close()
	for _, r := range reports {
		if _, err := f.Write(r); err != nil {
			t.Fatalf("keyboard gadget write: %v", err)
		}
	}
}

func nextScan(t *testing.T, ch <-chan scanner.Scan, want string) scanner.Scan {
	t.Helper()
	select {
	case s := <-ch:
		if s.Code != want {
			t.Fatalf("scanned %q (raw %q), want %q", s.Code, s.Raw, want)
		}
		return s
	case <-time.After(10 * time.Second):
		t.Fatalf("no scan of %q within 10 s", want)
	}
	return scanner.Scan{}
}

type stateChange struct {
	st  scanner.State
	err error
}

func waitState(t *testing.T, ch <-chan stateChange, want scanner.State) stateChange {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case c := <-ch:
			if c.st == want {
				return c
			}
		case <-timeout:
			t.Fatalf("scanner did not become %s within 10 s", want)
		}
	}
}

// supervise runs a scanner Supervisor until the test ends and returns its state changes.
func supervise(t *testing.T, name string, open scanner.OpenFunc) <-chan stateChange {
	t.Helper()
	states := make(chan stateChange, 16)
	sup := &scanner.Supervisor{
		Name: name, Open: open, Poll: 50 * time.Millisecond,
		OnState: func(_ string, st scanner.State, err error) { states <- stateChange{st, err} },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("supervisor %s: %v", name, err)
			}
		case <-time.After(10 * time.Second):
			// Left running: the guest powers off at the end anyway.
			t.Errorf("supervisor %s did not stop within 10 s of cancellation (its session's Close hangs)", name)
		}
	})
	return states
}

// TestGuestSerialScannerReader frames codes sent by a CDC-ACM scanner, read with
// go.bug.st/serial on /dev/ttyACM0 found by VID/PID.
func TestGuestSerialScannerReader(t *testing.T) {
	r := guest(t)
	path, err := scanner.FindSerialPort(scanner.Match{VID: usbvm.SerialVID, PID: usbvm.SerialPID})
	if err != nil {
		t.Fatal(err)
	}
	want, err := r.Serial.WaitHostNode(ctxT(t, 5*time.Second), "ttyACM")
	if err != nil {
		t.Fatal(err)
	}
	if path != want {
		t.Errorf("FindSerialPort = %s, the kernel made %s", path, want)
	}
	port, err := serial.Open(path, &serial.Mode{BaudRate: 9600})
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	ch := make(chan scanner.Scan, 4)
	sr, err := scanner.NewSerialReader(port, scanner.SerialConfig{Terminator: scanner.TermCR}, scanner.ChanSink(ch))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- sr.Run(ctx) }()

	typeOnSerial(t, r.Serial, "SF1234567890123\r]E04006381333931\r")
	nextScan(t, ch, "SF1234567890123")
	if s := nextScan(t, ch, "4006381333931"); s.Symbology != "]E0" {
		t.Errorf("symbology = %q, want ]E0", s.Symbology)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run after cancel = %v, want context.Canceled", err)
	}
}

// TestGuestSerialScannerReplug keeps a serial scanner open with the scanner Supervisor
// while its cable is pulled and plugged back.
func TestGuestSerialScannerReplug(t *testing.T) {
	r := guest(t)
	ch := make(chan scanner.Scan, 4)
	open := scanner.SerialOpener(scanner.SerialTarget{Match: scanner.Match{VID: usbvm.SerialVID, PID: usbvm.SerialPID}},
		scanner.SerialConfig{Terminator: scanner.TermCR}, scanner.ChanSink(ch))
	states := supervise(t, "bench-1 serial", open)
	waitState(t, states, scanner.StateConnected)
	typeOnSerial(t, r.Serial, "BEFORE-UNPLUG\r")
	nextScan(t, ch, "BEFORE-UNPLUG")

	if err := r.Serial.Unplug(); err != nil {
		t.Fatal(err)
	}
	c := waitState(t, states, scanner.StateDisconnected)
	t.Logf("unplugged: %v", c.err)
	if err := r.Serial.Plug(); err != nil {
		t.Fatal(err)
	}
	waitState(t, states, scanner.StateConnected)
	typeOnSerial(t, r.Serial, "AFTER-REPLUG\r")
	nextScan(t, ch, "AFTER-REPLUG")
}

var us = func() *scanner.Layout {
	l, err := scanner.LayoutByName("us")
	if err != nil {
		panic(err)
	}
	return l
}()

var keyboardMatch = scanner.Match{VID: usbvm.KeyboardVID, PID: usbvm.KeyboardPID}

// TestGuestHidrawScanner reads a keyboard-mode scanner's reports from /dev/hidrawN, found
// by VID/PID, through the Supervisor, across an unplug and re-plug.
func TestGuestHidrawScanner(t *testing.T) {
	r := guest(t)
	ch := make(chan scanner.Scan, 4)
	open := scanner.HidrawOpener(scanner.DeviceTarget{Match: keyboardMatch},
		func() scanner.ReportDecoder { return scanner.NewKeyboardDecoder(us) }, scanner.Options{}, scanner.ChanSink(ch))
	states := supervise(t, "bench-1 hidraw", open)
	waitState(t, states, scanner.StateConnected)
	typeOnKeyboard(t, r.Keyboard, "SF1234567890123\n")
	nextScan(t, ch, "SF1234567890123")
	typeOnKeyboard(t, r.Keyboard, "Order#A-03-2/07 {x}\n")
	nextScan(t, ch, "Order#A-03-2/07 {x}")

	if err := r.Keyboard.Unplug(); err != nil {
		t.Fatal(err)
	}
	c := waitState(t, states, scanner.StateDisconnected)
	t.Logf("unplugged: %v", c.err)
	if err := r.Keyboard.Plug(); err != nil {
		t.Fatal(err)
	}
	waitState(t, states, scanner.StateConnected)
	typeOnKeyboard(t, r.Keyboard, "AFTER-REPLUG\n")
	nextScan(t, ch, "AFTER-REPLUG")
}

// TestGuestEvdevScanner reads a keyboard-mode scanner through its input event node with
// an exclusive grab (EVIOCGRAB): a second grab fails, and the keys decode to the code.
func TestGuestEvdevScanner(t *testing.T) {
	r := guest(t)
	path, err := scanner.FindEvdev(scanner.DefaultSysfs, keyboardMatch)
	if err != nil {
		t.Fatal(err)
	}
	f, err := scanner.OpenEvdev(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f2, err := scanner.OpenEvdev(path); err == nil {
		f2.Close()
		t.Errorf("a second EVIOCGRAB of %s succeeded; the grab is not exclusive", path)
	}
	ch := make(chan scanner.Scan, 4)
	er, err := scanner.NewEvdevReader(f, us, scanner.Options{}, scanner.ChanSink(ch))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- er.Run(t.Context()) }()
	typeOnKeyboard(t, r.Keyboard, "JD0012345678-1-1\n")
	nextScan(t, ch, "JD0012345678-1-1")

	if err := r.Keyboard.Unplug(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, scanner.ErrDisconnected) {
			t.Errorf("Run after unplug = %v, want ErrDisconnected", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("evdev reader did not notice the unplug within 10 s")
	}
	if err := r.Keyboard.Plug(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Keyboard.WaitHostNode(ctxT(t, 10*time.Second), "input/event"); err != nil {
		t.Fatal(err)
	}
	path2, err := scanner.FindEvdev(scanner.DefaultSysfs, keyboardMatch)
	if err != nil {
		t.Fatalf("FindEvdev after re-plug: %v", err)
	}
	t.Logf("evdev node before unplug %s, after re-plug %s", path, path2)
}

// TestGuestScannerListDevices checks what `dockhand devices` would list on a bench with a
// serial scanner and a keyboard scanner plugged in.
func TestGuestScannerListDevices(t *testing.T) {
	r := guest(t)
	acm, err := r.Serial.WaitHostNode(ctxT(t, 5*time.Second), "ttyACM")
	if err != nil {
		t.Fatal(err)
	}
	hidraw, err := r.Keyboard.WaitHostNode(ctxT(t, 5*time.Second), "hidraw")
	if err != nil {
		t.Fatal(err)
	}
	event, err := r.Keyboard.WaitHostNode(ctxT(t, 5*time.Second), "input/event")
	if err != nil {
		t.Fatal(err)
	}
	list, err := scanner.ListDevices(scanner.DefaultSysfs)
	if err != nil {
		t.Fatalf("ListDevices: %v (listed %v)", err, list)
	}
	want := []struct {
		kind, path string
		vid, pid   uint16
	}{
		{"serial", acm, usbvm.SerialVID, usbvm.SerialPID},
		{"hidraw", hidraw, usbvm.KeyboardVID, usbvm.KeyboardPID},
		{"input", event, usbvm.KeyboardVID, usbvm.KeyboardPID},
		{"usb-hid", "", usbvm.KeyboardVID, usbvm.KeyboardPID},
	}
	for _, w := range want {
		found := false
		for _, d := range list {
			if d.Kind == w.kind && (w.path == "" || d.Path == w.path) && d.VID == w.vid && d.PID == w.pid {
				found = true
			}
		}
		if !found {
			t.Errorf("ListDevices has no %s %s %04x:%04x; it listed:\n%v", w.kind, w.path, w.vid, w.pid, list)
		}
	}
}

// TestGuestUSBHIDScanner reads the keyboard-mode scanner through hidapi/libusb
// (karalabe/usb), which needs cgo: TestUSBVM builds the guest with cgo, linked statically.
func TestGuestUSBHIDScanner(t *testing.T) {
	r := guest(t)
	if !scanner.USBHIDSupported() {
		t.Fatal("the guest binary has no USB HID support: it must be built with cgo (Options.CGO)")
	}
	list, err := scanner.ListUSBHID()
	if err != nil {
		t.Fatalf("ListUSBHID: %v", err)
	}
	t.Logf("USB HID interfaces: %+v", list)
	t.Cleanup(func() {
		// hidapi's libusb backend detaches the kernel's usbhid driver from the interface
		// and does not give it back when closed: the scanner stops being a keyboard
		// (no hidraw, no input device) until it is plugged in again. Say so, and re-plug
		// it for the tests that follow.
		// t.Context is cancelled before cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 12*time.Second)
		defer cancel()
		short, cancelShort := context.WithTimeout(ctx, 2*time.Second)
		defer cancelShort()
		if _, err := r.Keyboard.WaitHostNode(short, "hidraw"); err != nil {
			t.Logf("after the hidapi session closed, the keyboard has no hidraw node: %v", err)
		}
		if err := r.Keyboard.Unplug(); err != nil {
			t.Error(err)
		}
		if err := r.Keyboard.Plug(); err != nil {
			t.Error(err)
		}
		if _, err := r.Keyboard.WaitHostNode(ctx, "hidraw"); err != nil {
			t.Errorf("keyboard not back after re-plug: %v", err)
		}
	})
	ch := make(chan scanner.Scan, 4)
	open := scanner.USBHIDOpener(keyboardMatch,
		func() scanner.ReportDecoder { return scanner.NewKeyboardDecoder(us) }, scanner.Options{}, scanner.ChanSink(ch))
	states := supervise(t, "bench-1 usb-hid", open)
	waitState(t, states, scanner.StateConnected)
	typeOnKeyboard(t, r.Keyboard, "YT2345678901234\n")
	nextScan(t, ch, "YT2345678901234")

	if err := r.Keyboard.Unplug(); err != nil {
		t.Fatal(err)
	}
	c := waitState(t, states, scanner.StateDisconnected)
	t.Logf("unplugged: %v", c.err)
	if err := r.Keyboard.Plug(); err != nil {
		t.Fatal(err)
	}
	waitState(t, states, scanner.StateConnected)
	typeOnKeyboard(t, r.Keyboard, "AFTER-REPLUG\n")
	nextScan(t, ch, "AFTER-REPLUG")
}
