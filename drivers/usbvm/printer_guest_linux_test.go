package usbvm_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/dockhand/dockhand/drivers/transport"
	"github.com/dockhand/dockhand/drivers/usbvm"
)

var printerURL = fmt.Sprintf("usblp://?vid=%04x&pid=%04x", usbvm.PrinterVID, usbvm.PrinterPID)

// tsplLabel is a 76×130 mm waybill-sized TSPL job with a bitmap large enough to need many
// 8 KiB bulk transfers.
func tsplLabel() []byte {
	var b bytes.Buffer
	b.WriteString("SIZE 76 mm, 130 mm\r\nGAP 2 mm, 0 mm\r\nDIRECTION 1\r\nCLS\r\n")
	b.WriteString("TEXT 40,40,\"3\",0,1,1,\"SF1234567890123\"\r\n")
	b.WriteString("BARCODE 40,100,\"128\",120,1,0,3,3,\"SF1234567890123\"\r\n")
	const w, h = 76, 600 // bytes per row, rows
	fmt.Fprintf(&b, "BITMAP 0,300,%d,%d,0,", w, h)
	for i := range w * h {
		b.WriteByte(byte(i*7 + i/w)) // a pattern that shows any lost or reordered transfer
	}
	b.WriteString("\r\nPRINT 1,1\r\n")
	return b.Bytes()
}

// openPrinterGadget opens the printer's gadget end, where the bytes the host sends arrive.
func openPrinterGadget(t *testing.T, r *usbvm.Rig) *os.File {
	t.Helper()
	node, err := r.Printer.FunctionNode()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(node, os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("open printer gadget: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// readN reads exactly n bytes from the gadget end within d.
func readN(t *testing.T, f *os.File, n int, d time.Duration) []byte {
	t.Helper()
	if err := f.SetReadDeadline(time.Now().Add(d)); err != nil {
		t.Fatalf("printer gadget has no deadlines: %v", err)
	}
	buf := make([]byte, n)
	got, err := io.ReadFull(f, buf)
	if err != nil {
		t.Fatalf("printer gadget received %d of %d bytes: %v", got, n, err)
	}
	return buf
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestGuestKernelUSBLP checks the kernel path the transport relies on with plain file
// calls: bytes written to /dev/usb/lp0 arrive on /dev/g_printer0 exactly.
func TestGuestKernelUSBLP(t *testing.T) {
	r := guest(t)
	node, err := r.Printer.WaitHostNode(ctxT(t, 5*time.Second), "usb/lp")
	if err != nil {
		t.Fatal(err)
	}
	g := openPrinterGadget(t, r)
	want := tsplLabel()
	f, err := os.OpenFile(node, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := f.Write(want)
		done <- err
	}()
	got := readN(t, g, len(want), 10*time.Second)
	if err := <-done; err != nil {
		t.Fatalf("write %s: %v", node, err)
	}
	f.Close()
	if !bytes.Equal(got, want) {
		t.Fatalf("gadget received different bytes (first difference at %d of %d)", firstDiff(got, want), len(want))
	}
}

// TestGuestUSBLPLabel prints a label through the transport's usblp port, found by
// VID/PID, and checks the printer received it byte for byte, including the end that
// closing too early would cut off.
func TestGuestUSBLPLabel(t *testing.T) {
	r := guest(t)
	g := openPrinterGadget(t, r)
	want := tsplLabel()
	received := make(chan []byte, 1)
	go func() {
		buf := make([]byte, len(want))
		g.SetReadDeadline(time.Now().Add(15 * time.Second))
		n, _ := io.ReadFull(g, buf)
		received <- buf[:n]
	}()
	p, err := transport.Open(ctxT(t, 5*time.Second), printerURL)
	if err != nil {
		t.Fatal(err)
	}
	if info := p.Info(); info.Kind != "usblp" || info.DeviceID != usbvm.PrinterDeviceID {
		t.Errorf("Info() = %+v, want kind usblp with device id %q", info, usbvm.PrinterDeviceID)
	}
	if n, err := p.Write(want); err != nil || n != len(want) {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(want))
	}
	if err := p.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got := <-received
	if !bytes.Equal(got, want) {
		t.Fatalf("printer received %d of %d bytes, first difference at %d", len(got), len(want), firstDiff(got, want))
	}
}

// TestGuestUSBLPIdentity reads the printer's IEEE 1284 id over USB and checks that the
// transport lists the printer with its languages.
func TestGuestUSBLPIdentity(t *testing.T) {
	guest(t)
	all, err := transport.ListUSBPrinters()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 {
		t.Fatalf("ListUSBPrinters = %+v, want the one gadget printer", all)
	}
	lp := all[0]
	if lp.VID != usbvm.PrinterVID || lp.PID != usbvm.PrinterPID || lp.Serial != "USBVM-PRN-1" || lp.Manufacturer != "Xprinter" || lp.Product != "XP-470B" {
		t.Errorf("listed printer = %+v", lp)
	}
	if got := lp.DeviceID.Languages(); !slices.Equal(got, []string{transport.LangTSPL, transport.LangESCPOS}) {
		t.Errorf("sysfs device id languages = %q, want [TSPL ESCPOS] (raw %q)", got, lp.DeviceIDText)
	}
	p, err := transport.OpenUSBLPMatch(ctxT(t, 5*time.Second), transport.USBMatch{VID: usbvm.PrinterVID, PID: usbvm.PrinterPID})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	id, err := p.DeviceID()
	if err != nil {
		t.Fatalf("DeviceID (LPIOC_GET_DEVICE_ID): %v", err)
	}
	if id.Manufacturer != "Xprinter" || id.Model != "XP-470B" || !id.Speaks("TSPL") || !id.Speaks("ESC/POS") || id.Speaks("ZPL") {
		t.Errorf("DeviceID = %+v, want Xprinter XP-470B speaking TSPL and ESC/POS only", id)
	}
	// usblp allows one open at a time: a second program gets a clear "busy".
	if p2, err := transport.Open(ctxT(t, 5*time.Second), printerURL); !errors.Is(err, transport.ErrBusy) {
		if p2 != nil {
			p2.Close()
		}
		t.Errorf("second open = %v, want an error wrapping ErrBusy", err)
	}
}

// TestGuestUSBLPStatus changes the status the printer reports (LPGETSTATUS, the printer
// class GET_PORT_STATUS request) and reads it on the host through the transport.
func TestGuestUSBLPStatus(t *testing.T) {
	r := guest(t)
	g := openPrinterGadget(t, r)
	t.Cleanup(func() { usbvm.SetPrinterStatus(g, usbvm.PrinterNotError|usbvm.PrinterSelected) })
	p, err := transport.OpenUSBLPMatch(ctxT(t, 5*time.Second), transport.USBMatch{VID: usbvm.PrinterVID, PID: usbvm.PrinterPID})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, tc := range []struct {
		name   string
		status byte
		want   error
	}{
		{"ready", usbvm.PrinterNotError | usbvm.PrinterSelected, nil},
		{"paper out", usbvm.PrinterSelected | usbvm.PrinterPaperEmpty, transport.ErrPaperOut},
		{"paper out, fault line", usbvm.PrinterNotError | usbvm.PrinterSelected | usbvm.PrinterPaperEmpty, transport.ErrPaperOut},
		{"fault", usbvm.PrinterSelected, transport.ErrPrinterFault},
		{"paused", usbvm.PrinterNotError, transport.ErrNotSelected},
		{"ready again", usbvm.PrinterNotError | usbvm.PrinterSelected, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := usbvm.SetPrinterStatus(g, tc.status); err != nil {
				t.Fatal(err)
			}
			st, err := p.Status()
			if err != nil {
				t.Fatalf("Status: %v", err)
			}
			if byte(st) != tc.status {
				t.Errorf("Status = %v, want 0x%02x", st, tc.status)
			}
			if err := st.Err(); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("Status(0x%02x).Err() = %v, want %v", tc.status, err, tc.want)
			}
		})
	}
}

// TestGuestUSBLPBackChannel has the printer answer an ESC/POS status query
// (DLE EOT 1 -> 0x12, all clear) and reads the answer through the transport.
func TestGuestUSBLPBackChannel(t *testing.T) {
	r := guest(t)
	g := openPrinterGadget(t, r)
	p, err := transport.Open(ctxT(t, 5*time.Second), printerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	query := []byte{0x10, 0x04, 0x01}
	if _, err := p.Write(query); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, g, len(query), 5*time.Second); !bytes.Equal(got, query) {
		t.Fatalf("printer got % x, want % x", got, query)
	}
	if _, err := g.Write([]byte{0x12}); err != nil {
		t.Fatalf("printer gadget write: %v", err)
	}
	buf := make([]byte, 16)
	n, err := p.ReadContext(ctxT(t, 5*time.Second), buf)
	if err != nil || n != 1 || buf[0] != 0x12 {
		t.Fatalf("ReadContext = % x, %v; want 12", buf[:n], err)
	}
}

// TestGuestUSBLPUnplug pulls the printer's cable in the middle of a job: the write fails
// with ErrDisconnected, the printer is gone from the list, and after re-plugging it is
// found again by VID/PID and prints.
func TestGuestUSBLPUnplug(t *testing.T) {
	r := guest(t)
	g := openPrinterGadget(t, r)
	p, err := transport.Open(ctxT(t, 5*time.Second), printerURL+"&write_timeout=60s&drain_timeout=2s")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// Far more than the gadget's queue (10 × 8 KiB): the write is still going when the
	// cable is pulled.
	job := bytes.Repeat([]byte("BITMAP-DATA-"), 1<<17)
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := p.Write(job)
		done <- result{n, err}
	}()
	readN(t, g, 4096, 5*time.Second) // the job is flowing
	g.Close()
	if err := r.Printer.Unplug(); err != nil {
		t.Fatal(err)
	}
	var res result
	select {
	case res = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("write did not return within 10 s of the unplug")
	}
	if !errors.Is(res.err, transport.ErrDisconnected) || res.n >= len(job) {
		t.Fatalf("write during unplug = %d of %d bytes, %v; want an error wrapping ErrDisconnected", res.n, len(job), res.err)
	}
	t.Logf("write during unplug: %v", res.err)
	if err := r.Printer.WaitGone(ctxT(t, 5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := transport.FindUSBPrinter(transport.USBMatch{VID: usbvm.PrinterVID, PID: usbvm.PrinterPID}); !errors.Is(err, transport.ErrNotFound) {
		t.Errorf("FindUSBPrinter while unplugged = %v, want ErrNotFound", err)
	}
	if _, err := transport.Open(ctxT(t, time.Second), printerURL); !errors.Is(err, transport.ErrNotFound) || !transport.Retryable(err) {
		t.Errorf("Open while unplugged = %v, want a retryable ErrNotFound", err)
	}
	p.Close()

	if err := r.Printer.Plug(); err != nil {
		t.Fatal(err)
	}
	node, err := r.Printer.WaitHostNode(ctxT(t, 10*time.Second), "usb/lp")
	if err != nil {
		t.Fatal(err)
	}
	found, err := transport.FindUSBPrinter(transport.USBMatch{VID: usbvm.PrinterVID, PID: usbvm.PrinterPID})
	if err != nil {
		t.Fatalf("FindUSBPrinter after re-plug: %v", err)
	}
	if found.Node != node {
		t.Errorf("FindUSBPrinter node = %s, kernel made %s", found.Node, node)
	}
	t.Logf("re-plugged printer found at %s", node)
	g2 := openPrinterGadget(t, r)
	p2, err := transport.Open(ctxT(t, 5*time.Second), printerURL)
	if err != nil {
		t.Fatalf("open after re-plug: %v", err)
	}
	label := []byte("SIZE 76 mm, 130 mm\r\nCLS\r\nTEXT 10,10,\"3\",0,1,1,\"AGAIN\"\r\nPRINT 1\r\n")
	if _, err := p2.Write(label); err != nil {
		t.Fatal(err)
	}
	if err := p2.Close(); err != nil {
		t.Fatal(err)
	}
	got := readN(t, g2, len(label), 5*time.Second)
	if !bytes.Equal(got, label) {
		more := make([]byte, 4096)
		g2.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := g2.Read(more)
		t.Fatalf("after re-plug the printer got %q, want %q; then %q %v", got, label, more[:min(n, 100)], err)
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestGuestUSBLPSupervisorNewNode keeps a printer addressed by VID/PID/serial under the
// transport's Supervisor while it is unplugged, an identical printer takes its node, and
// it comes back at a new node: the supervisor goes offline, ignores the other printer,
// and reconnects to the right one at /dev/usb/lp1.
func TestGuestUSBLPSupervisorNewNode(t *testing.T) {
	r := guest(t)
	events := make(chan transport.Event, 32)
	sup, err := transport.NewSupervisor(printerURL+"&serial=USBVM-PRN-1", transport.SupervisorOptions{
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, CheckInterval: 50 * time.Millisecond,
		OnEvent: func(e transport.Event) {
			select {
			case events <- e:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("supervisor Run: %v", err)
		}
	}()
	waitEvent := func(want transport.State) transport.Event {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case e := <-events:
				if e.State == want {
					return e
				}
			case <-timeout:
				st, err := sup.State()
				t.Fatalf("printer did not become %v within 10 s (now %v: %v)", want, st, err)
			}
		}
	}
	printJob := func(g *os.File, label string) {
		t.Helper()
		err := sup.Do(ctxT(t, 10*time.Second), func(p transport.Port) error {
			_, err := p.Write([]byte(label))
			return err
		})
		if err != nil {
			t.Fatalf("Do: %v", err)
		}
		if got := readN(t, g, len(label), 5*time.Second); string(got) != label {
			t.Fatalf("printer got %q, want %q", got, label)
		}
	}

	first := waitEvent(transport.StateConnected)
	g := openPrinterGadget(t, r)
	printJob(g, "SIZE 76 mm, 130 mm\r\nCLS\r\nTEXT 10,10,\"3\",0,1,1,\"ONE\"\r\nPRINT 1\r\n")
	g.Close()

	if err := r.Printer.Unplug(); err != nil {
		t.Fatal(err)
	}
	off := waitEvent(transport.StateOffline)
	if !errors.Is(off.Err, transport.ErrDisconnected) && !errors.Is(off.Err, transport.ErrNotFound) && !errors.Is(off.Err, transport.ErrOffline) {
		t.Errorf("offline because %v; want a disconnected or not-found printer", off.Err)
	}
	if err := sup.Do(ctxT(t, time.Second), func(transport.Port) error { return nil }); !errors.Is(err, transport.ErrOffline) {
		t.Errorf("Do while unplugged = %v, want ErrOffline at once", err)
	}

	// An identical printer (other serial) is plugged in meanwhile and takes the node.
	other, err := usbvm.CreateGadget(usbvm.SecondPrinterSpec())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := other.Remove(); err != nil {
			t.Errorf("remove second printer: %v", err)
		}
	}()
	if err := other.Plug(); err != nil {
		t.Fatal(err)
	}
	otherNode, err := other.WaitHostNode(ctxT(t, 10*time.Second), "usb/lp")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Printer.Plug(); err != nil {
		t.Fatal(err)
	}
	node, err := r.Printer.WaitHostNode(ctxT(t, 10*time.Second), "usb/lp")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first printer was %s, now %s; the other printer took %s", first.Info.Address, node, otherNode)
	if node == first.Info.Address {
		t.Errorf("the re-plugged printer kept %s: this test needs it at a new node", node)
	}
	back := waitEvent(transport.StateConnected)
	if back.Info.Address != node {
		t.Errorf("supervisor reconnected to %s, want the re-plugged printer's %s (the other printer is %s)", back.Info.Address, node, otherNode)
	}
	if _, err := transport.FindUSBPrinter(transport.USBMatch{VID: usbvm.PrinterVID, PID: usbvm.PrinterPID}); !errors.Is(err, transport.ErrAmbiguous) {
		t.Errorf("FindUSBPrinter without serial among two identical printers = %v, want ErrAmbiguous", err)
	}
	g2 := openPrinterGadget(t, r)
	printJob(g2, "SIZE 76 mm, 130 mm\r\nCLS\r\nTEXT 10,10,\"3\",0,1,1,\"TWO\"\r\nPRINT 1\r\n")
}
