package stationvm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/dockhand/dockhand/agent"
	"github.com/dockhand/dockhand/agent/config"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/drivers/label"
	"github.com/dockhand/dockhand/drivers/printertest"
	"github.com/dockhand/dockhand/drivers/usbvm"
	"github.com/dockhand/dockhand/sync/hublink"
	"github.com/dockhand/dockhand/sync/wire"
)

const (
	warehouse = "HZ01"
	agentID   = "HZ01-A"
	stationID = "PACK-01"
	printerID = "printer-pack-01"
	scannerID = "scanner-pack-01"
	// wait bounds every step; the VM runs under emulation on a shared host.
	wait = 30 * time.Second
)

// TestGuestStation runs the agent in the VM with a USB serial scanner and a USB label
// printer, and packs like a packer: verify an order (a wrong item refused on the way),
// pull the printer's cable and plug it back, verify the next order; then verify one
// while the printer is away, whose label prints when it is back.
func TestGuestStation(t *testing.T) {
	r, err := usbvm.Guest()
	if err != nil {
		t.Skip("runs inside the USB VM (TestStationUSB boots it)")
	}
	if err := usbvm.LoopbackUp(); err != nil {
		t.Fatal(err) // the agent's web UI, the embedded broker and the hub simulator use 127.0.0.1
	}
	pr := newPrinterEnd(t, r.Printer)
	if err := pr.attach(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pr.detach)

	brokerPort := freePort(t)
	cfgFile := filepath.Join(t.TempDir(), "dockhand.yaml")
	yaml := fmt.Sprintf(`warehouse: %s
agent: %s
data_dir: %s
log: {level: info}
http:
  listen: 127.0.0.1:%d
demo:
  orders: 40
  seed: 7
  broker_port: %d
printers:
  - id: %s
    url: usblp://?vid=%04x&pid=%04x
    model: xprinter-xp-470b
scanners:
  - id: %s
    url: serial://?vid=%04x&pid=%04x&baud=9600
    terminator: cr
stations:
  - id: %s
    kind: pack
    scanners: [%s]
    printer: %s
`, warehouse, agentID, t.TempDir(), freePort(t), brokerPort,
		printerID, r.Printer.VID, r.Printer.PID,
		scannerID, r.Serial.VID, r.Serial.PID,
		stationID, scannerID, printerID)
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	a := startAgent(t, cfgFile)
	status := watchStatus(t, fmt.Sprintf("tcp://127.0.0.1:%d", brokerPort))
	status.waitDevice(t, scannerID, "connected")
	status.waitDevice(t, printerID, "ready")

	tty := openScanner(t, r.Serial)
	scan := func(codes ...string) {
		t.Helper()
		for _, c := range codes {
			if _, err := tty.WriteString(c + "\r"); err != nil {
				t.Fatalf("type %q on the scanner: %v", c, err)
			}
		}
	}
	orders, wrong := pickOrders(t, a.Store(), 3)
	first, second, third := orders[0], orders[1], orders[2]
	for _, o := range orders {
		t.Logf("order %s: waybill %s, %d items, gift %v", o.OrderID, o.Waybill.No, len(itemCodes(o)), hasGift(o) == 1)
	}
	t.Logf("wrong item: %s", wrong)

	if !t.Run("verify and print", func(t *testing.T) {
		scan(first.Waybill.No, wrong)
		rej := waitEvent(t, a, "the wrong item's refusal", func(e wire.Event) bool {
			return e.Type == wire.EventPackRejected && e.OrderID == first.OrderID
		})
		var d struct{ Reason, Code string }
		if err := json.Unmarshal(rej.Data, &d); err != nil {
			t.Fatal(err)
		}
		if d.Reason != wire.ReasonWrongItem || d.Code != wrong {
			t.Fatalf("refusal %s, want reason %s for code %s", rej.Data, wire.ReasonWrongItem, wrong)
		}
		if n := pr.sim.Labels(); n != 0 {
			t.Fatalf("the printer printed %d labels while the order was open with a wrong item", n)
		}
		scan(itemCodes(first)...)
		scan(first.Waybill.No)
		waitEvent(t, a, "pack.verified", func(e wire.Event) bool {
			return e.Type == wire.EventPackVerified && e.OrderID == first.OrderID
		})
		got := pr.waitLabel(t, 1)
		checkLabel(t, got, first)
		waitEvent(t, a, "waybill.printed", func(e wire.Event) bool {
			return e.Type == wire.EventWaybillPrinted && e.OrderID == first.OrderID
		})
		if n := pr.sim.Labels(); n != 1 {
			t.Fatalf("the printer printed %d labels, want exactly the verified order's one", n)
		}
	}) {
		return
	}

	if !t.Run("printer unplugged and back", func(t *testing.T) {
		pr.detach()
		if err := r.Printer.Unplug(); err != nil {
			t.Fatal(err)
		}
		if err := r.Printer.WaitGone(ctxT(t, wait)); err != nil {
			t.Fatal(err)
		}
		status.waitDevice(t, printerID, "offline")
		if err := r.Printer.Plug(); err != nil {
			t.Fatal(err)
		}
		node, err := r.Printer.WaitHostNode(ctxT(t, wait), "usb/lp")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("printer plugged back in at %s", node)
		if err := pr.attach(); err != nil {
			t.Fatal(err)
		}
		status.waitDevice(t, printerID, "ready")

		scan(second.Waybill.No)
		scan(itemCodes(second)...)
		scan(second.Waybill.No)
		waitEvent(t, a, "pack.verified of the second order", func(e wire.Event) bool {
			return e.Type == wire.EventPackVerified && e.OrderID == second.OrderID
		})
		checkLabel(t, pr.waitLabel(t, 2), second)
		waitEvent(t, a, "waybill.printed of the second order", func(e wire.Event) bool {
			return e.Type == wire.EventWaybillPrinted && e.OrderID == second.OrderID
		})
		if n := pr.sim.Labels(); n != 2 {
			t.Fatalf("the printer printed %d labels, want 2 (one per verified order)", n)
		}
	}) {
		return
	}

	// A parcel verified while the printer is away: its label waits and prints, once,
	// when the printer is back.
	t.Run("label waits for the printer", func(t *testing.T) {
		before := pr.sim.Labels()
		pr.detach()
		if err := r.Printer.Unplug(); err != nil {
			t.Fatal(err)
		}
		if err := r.Printer.WaitGone(ctxT(t, wait)); err != nil {
			t.Fatal(err)
		}
		status.waitDevice(t, printerID, "offline")
		scan(third.Waybill.No)
		scan(itemCodes(third)...)
		scan(third.Waybill.No)
		waitEvent(t, a, "pack.verified of the order verified while the printer was away", func(e wire.Event) bool {
			return e.Type == wire.EventPackVerified && e.OrderID == third.OrderID
		})
		if err := r.Printer.Plug(); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Printer.WaitHostNode(ctxT(t, wait), "usb/lp"); err != nil {
			t.Fatal(err)
		}
		if err := pr.attach(); err != nil {
			t.Fatal(err)
		}
		status.waitDevice(t, printerID, "ready")
		checkLabel(t, pr.waitLabel(t, before+1), third)
		waitEvent(t, a, "waybill.printed of the order verified while the printer was away", func(e wire.Event) bool {
			return e.Type == wire.EventWaybillPrinted && e.OrderID == third.OrderID
		})
		if n := pr.sim.Labels(); n != before+1 {
			t.Fatalf("the printer printed %d labels after coming back, want 1", n-before)
		}
	})
	if v := a.HubSim().Violations(); len(v) > 0 {
		t.Errorf("contract violations at the hub: %+v", v)
	}
}

// startAgent loads the configuration file and runs the agent as the daemon does, until
// the test ends; the agent must stop cleanly within 10 s.
func startAgent(t *testing.T, file string) *agent.Agent {
	t.Helper()
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, err := agent.New(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("the agent stopped with %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("the agent did not stop within 10 s")
		}
	})
	select {
	case <-a.Ready():
	case err := <-done:
		t.Fatalf("the agent did not start: %v", err)
	case <-time.After(wait):
		t.Fatal("the agent did not start listening")
	}
	return a
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// openScanner opens the serial scanner's gadget end, where the codes are typed.
func openScanner(t *testing.T, g *usbvm.Gadget) *os.File {
	t.Helper()
	node, err := g.FunctionNode()
	if err != nil {
		t.Fatal(err)
	}
	f, err := usbvm.OpenRawTTY(node)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// pickOrders waits for the hub simulator's sample orders and picks n the bench can pack
// (released, a waybill, a barcode on every line, no quality hold), those with a gift
// first, and a barcode the store knows for an article none of them holds.
func pickOrders(t *testing.T, s *store.Store, n int) (orders []wire.Order, wrong string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		var packable []wire.Order
		codes := map[string][]store.BarcodeHit{}
		err := s.View(func(tx *store.Tx) error {
			return tx.OpenOrders(func(r *store.OrderRecord) bool {
				o := r.Order
				for _, l := range o.Lines {
					for _, b := range l.Barcodes {
						if hits := tx.LookupBarcode(b); len(hits) > 0 {
							codes[b] = hits
						}
					}
				}
				if o.Status != wire.StatusReleased || o.Waybill == nil || o.Waybill.Rendered != nil {
					return true
				}
				for _, l := range o.Lines {
					if len(l.Barcodes) == 0 || l.Qty < 1 {
						return true
					}
					if h, _ := tx.HoldFor(l.SKU, l.Batch); h != nil {
						return true
					}
				}
				packable = append(packable, o)
				return true
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.SortStableFunc(packable, func(a, b wire.Order) int { return hasGift(b) - hasGift(a) })
		if len(packable) >= n {
			orders = packable[:n]
		codes:
			for c, hits := range codes {
				for _, o := range orders {
					if !foreign(o, hits) {
						continue codes
					}
				}
				if wrong == "" || c < wrong {
					wrong = c
				}
			}
			if wrong != "" {
				return orders, wrong
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the hub simulator's orders did not arrive: %d packable orders, %d known barcodes", len(packable), len(codes))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func hasGift(o wire.Order) int {
	for _, l := range o.Lines {
		if l.Gift {
			return 1
		}
	}
	return 0
}

// itemCodes is what the packer scans for an order's items: each line's first barcode,
// once per unit, gifts included.
func itemCodes(o wire.Order) []string {
	var out []string
	for _, l := range o.Lines {
		for range l.Qty {
			out = append(out, l.Barcodes[0])
		}
	}
	return out
}

// foreign reports whether none of the SKUs a barcode stands for is in o.
func foreign(o wire.Order, hits []store.BarcodeHit) bool {
	for _, h := range hits {
		for _, l := range o.Lines {
			if l.SKU == h.SKU {
				return false
			}
		}
	}
	return true
}

// waitEvent waits until the hub simulator holds an event of this agent matching ok
// (it went through the outbox and the broker) and returns it.
func waitEvent(t *testing.T, a *agent.Agent, what string, ok func(wire.Event) bool) wire.Event {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		evs, err := a.HubSim().Events(agentID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if ok(e.Event) {
				return e.Event
			}
		}
		if time.Now().After(deadline) {
			var seen []string
			for _, e := range evs {
				seen = append(seen, fmt.Sprintf("%s %s %s", e.Event.Type, e.Event.OrderID, e.Event.Data))
			}
			t.Fatalf("the hub did not get %s within %v; it got:\n%s", what, wait, strings.Join(seen, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkLabel checks that a label is a TSPL job for o: a Code 128 of its waybill number
// and its Chinese text in GB18030 (the gift line when it has a gift, else the receiver's
// city), never as UTF-8.
func checkLabel(t *testing.T, job []byte, o wire.Order) {
	t.Helper()
	if !bytes.HasPrefix(job, []byte("SIZE ")) && !bytes.Contains(job, []byte("\r\nSIZE ")) {
		t.Errorf("the label has no TSPL SIZE command: %q", head(job))
	}
	barcode := false
	for _, l := range bytes.Split(job, []byte("\r\n")) {
		if bytes.HasPrefix(l, []byte("BARCODE ")) && bytes.Contains(l, []byte(`"128"`)) &&
			bytes.HasSuffix(l, []byte(`,"`+o.Waybill.No+`"`)) {
			barcode = true
		}
	}
	if !barcode {
		t.Errorf("the label has no Code 128 BARCODE of waybill %s: %q", o.Waybill.No, head(job))
	}
	text := o.Receiver.City
	for _, l := range o.Lines {
		if l.Gift {
			text = label.GiftText(label.Item{Name: l.Name, Qty: l.Qty})
			break
		}
	}
	gb, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(job, gb) {
		t.Errorf("the label lacks %q in GB18030 (% x): %q", text, gb, head(job))
	}
	if bytes.Contains(job, []byte(text)) {
		t.Errorf("the label carries %q as UTF-8, which the printer's font cannot print", text)
	}
	if !bytes.Contains(job, []byte("\r\nPRINT ")) {
		t.Errorf("the label has no PRINT command")
	}
	if !t.Failed() {
		t.Logf("label of %s: %d bytes of TSPL, Code 128 of %s, %q in GB18030", o.OrderID, len(job), o.Waybill.No, text)
	}
}

func head(b []byte) []byte {
	var out []byte
	for _, l := range bytes.Split(b, []byte("\r\n")) {
		if bytes.HasPrefix(l, []byte("BITMAP ")) {
			l = append(l[:min(len(l), 40):min(len(l), 40)], "…"...)
		}
		out = append(append(out, l...), "\r\n"...)
	}
	return out
}

// printerEnd is the label printer behind the gadget's /dev/g_printerN: the bytes the host
// sends over USB go to a simulated printer mechanism (drivers/printertest), which counts
// the labels, keeps the job bytes and answers the TSPL status questions back over USB.
type printerEnd struct {
	t   *testing.T
	g   *usbvm.Gadget
	sim *printertest.Printer

	mu   sync.Mutex
	node *os.File
	conn net.Conn
	done sync.WaitGroup
}

func newPrinterEnd(t *testing.T, g *usbvm.Gadget) *printerEnd {
	sim, err := printertest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return &printerEnd{t: t, g: g, sim: sim}
}

// attach opens the gadget end of a plugged-in printer, says it is ready (the port
// status usblp reads) and starts passing bytes both ways.
func (p *printerEnd) attach() error {
	node, err := p.g.FunctionNode()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(node, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open the printer's gadget end: %w", err)
	}
	if err := usbvm.SetPrinterStatus(f, usbvm.PrinterNotError|usbvm.PrinterSelected); err != nil {
		f.Close()
		return err
	}
	c, err := net.Dial("tcp", p.sim.Addr())
	if err != nil {
		f.Close()
		return fmt.Errorf("reach the printer mechanism: %w", err)
	}
	p.mu.Lock()
	p.node, p.conn = f, c
	p.mu.Unlock()
	p.done.Add(2)
	go func() {
		defer p.done.Done()
		_, err := io.Copy(c, f)
		if err != nil && !errors.Is(err, os.ErrClosed) {
			p.t.Logf("printer gadget end: %v", err)
		}
		c.Close()
	}()
	go func() {
		defer p.done.Done()
		io.Copy(f, c)
	}()
	return nil
}

// detach closes the gadget end, as before pulling the cable.
func (p *printerEnd) detach() {
	p.mu.Lock()
	f, c := p.node, p.conn
	p.node, p.conn = nil, nil
	p.mu.Unlock()
	if f == nil {
		return
	}
	f.Close()
	c.Close()
	p.done.Wait()
}

// waitLabel waits until the printer has printed n labels and returns the n-th job: its
// bytes from the end of the label before it through its PRINT line.
func (p *printerEnd) waitLabel(t *testing.T, n int) []byte {
	t.Helper()
	if !p.sim.WaitLabels(n, wait) {
		t.Fatalf("label %d did not arrive on the printer within %v (labels: %d, bytes: %d, status questions: %d)",
			n, wait, p.sim.Labels(), len(p.sim.Data()), p.sim.Queries())
	}
	// The PRINT line may still be arriving.
	deadline := time.Now().Add(wait)
	for {
		if job, ok := nthJob(p.sim.Data(), n); ok {
			return job
		}
		if time.Now().After(deadline) {
			t.Fatalf("label %d has no complete PRINT line", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// nthJob cuts the n-th TSPL job (1-based) out of the printer's bytes: each job ends with
// its "PRINT m[,n]" line.
func nthJob(data []byte, n int) ([]byte, bool) {
	start := 0
	for i := 1; ; i++ {
		k := bytes.Index(data[start:], []byte("\r\nPRINT "))
		if k < 0 {
			return nil, false
		}
		end := bytes.Index(data[start+k+2:], []byte("\r\n"))
		if end < 0 {
			return nil, false
		}
		stop := start + k + 2 + end + 2
		if i == n {
			return data[start:stop], true
		}
		start = stop
	}
}

// statusWatch follows the agent's retained status on the broker, as the hub does.
type statusWatch struct {
	mu   sync.Mutex
	last map[string]string // device id → state in the latest status
	all  []string          // every state change seen, for failure messages
	kick chan struct{}
}

func watchStatus(t *testing.T, broker string) *statusWatch {
	t.Helper()
	w := &statusWatch{last: map[string]string{}, kick: make(chan struct{}, 1)}
	topics, err := wire.TopicsFor(warehouse, agentID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := hublink.Connect(ctxT(t, wait), hublink.ClientConfig{
		Broker: broker, ClientID: "stationvm-status-watch", CleanSession: true,
		OnMessage: func(topic string, payload []byte) {
			var st wire.Status
			if topic != topics.Status || json.Unmarshal(payload, &st) != nil {
				return
			}
			w.mu.Lock()
			for _, d := range st.Devices {
				if w.last[d.ID] != d.State {
					w.all = append(w.all, d.ID+"="+d.State)
				}
				w.last[d.ID] = d.State
			}
			w.mu.Unlock()
			select {
			case w.kick <- struct{}{}:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(0) })
	if err := c.Subscribe(ctxT(t, wait), topics.Status); err != nil {
		t.Fatal(err)
	}
	return w
}

// waitDevice waits until the agent's status reports the device in state.
func (w *statusWatch) waitDevice(t *testing.T, id, state string) {
	t.Helper()
	timeout := time.After(wait)
	for {
		w.mu.Lock()
		got, seen := w.last[id], slices.Clone(w.all)
		w.mu.Unlock()
		if got == state {
			return
		}
		select {
		case <-w.kick:
		case <-timeout:
			t.Fatalf("the agent's status did not report %s %s within %v (it is %q; changes seen: %v)", id, state, wait, got, seen)
		}
	}
}
