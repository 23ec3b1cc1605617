//go:build linux

package agent

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/dockhand/dockhand/agent/config"
	"github.com/dockhand/dockhand/agent/floor"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/drivers/printertest"
	"github.com/dockhand/dockhand/drivers/ptytest"
	"github.com/dockhand/dockhand/sync/wire"
)

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startAgent runs a demo-mode agent (embedded broker, hub simulator with sample
// orders) with the given stations, printers and scanners.
func startAgent(t testing.TB, mod func(*config.Config)) *Agent {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.HTTP.Listen = freeAddr(t)
	cfg.Demo.Orders = 40
	mod(&cfg)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := New(&cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent stopped with %v", err)
		}
	})
	<-a.Ready()
	return a
}

// packable finds an open, released order with a waybill, barcodes on every line
// and no hold.
func packable(t *testing.T, s *store.Store) *store.OrderRecord {
	t.Helper()
	var found *store.OrderRecord
	deadline := time.Now().Add(10 * time.Second)
	for found == nil && time.Now().Before(deadline) {
		s.View(func(tx *store.Tx) error {
			return tx.OpenOrders(func(r *store.OrderRecord) bool {
				o := r.Order
				if o.Status != wire.StatusReleased || o.Waybill == nil || o.Waybill.Rendered != nil {
					return true
				}
				for _, l := range o.Lines {
					if len(l.Barcodes) == 0 {
						return true
					}
					if h, _ := tx.HoldFor(l.SKU, l.Batch); h != nil {
						return true
					}
				}
				found = r
				return false
			})
		})
		if found == nil {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if found == nil {
		t.Fatal("no packable order arrived from the hub simulator")
	}
	return found
}

// TestStationEndToEnd: a serial scanner on a real pseudo-terminal, bound to a
// packing bench, drives the scan-twice check; the verified parcel's waybill is
// printed on a TCP printer on loopback; the events reach the hub simulator.
func TestStationEndToEnd(t *testing.T) {
	pty, err := ptytest.Open()
	if err != nil {
		t.Skip("no pseudo-terminals:", err)
	}
	defer pty.Close()
	pr, err := printertest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	a := startAgent(t, func(c *config.Config) {
		c.Printers = []config.Printer{{ID: "P1", URL: pr.URL(), Model: "xprinter-xp-470b"}}
		c.Scanners = []config.Scanner{{ID: "S1", URL: "serial://" + pty.Name + "?baud=9600", Terminator: "cr"}}
		c.Stations = []config.Station{{ID: "PACK-01", Kind: "pack", Scanners: []string{"S1"}, Printer: "P1"}}
	})
	verdicts := make(chan string, 64)
	a.verdictHook = func(v floor.Verdict) { verdicts <- fmt.Sprintf("%v/%s/%s", v.OK, v.Reason, v.Next) }
	rec := packable(t, a.Store())
	o := rec.Order
	// Wait for the scanner to be found.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if devState(a, "S1") == "connected" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if devState(a, "S1") != "connected" {
		t.Fatalf("scanner state %q", devState(a, "S1"))
	}
	expect := func(want string) {
		t.Helper()
		select {
		case got := <-verdicts:
			if got[:len(want)] != want {
				t.Fatalf("verdict %s, want %s…", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no verdict (want %s)", want)
		}
	}
	pty.Type(o.Waybill.No)
	expect("true")
	pty.Type("6900000000000") // not in this order, maybe not anywhere
	expect("false/")
	for _, l := range o.Lines {
		for i := 0; i < l.Qty; i++ {
			pty.Type(l.Barcodes[0])
			expect("true")
		}
	}
	pty.Type(o.Waybill.No) // the label on the parcel
	expect("true")
	if !pr.WaitLabels(1, 10*time.Second) {
		t.Fatal("the verified parcel's waybill was not printed")
	}
	// Every event reaches the hub simulator once and is acked.
	var types []string
	deadline = time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		evs, _ := a.HubSim().Events("HZ01-A")
		types = types[:0]
		for _, e := range evs {
			types = append(types, e.Event.Type)
		}
		if contains(types, wire.EventPackVerified) && contains(types, wire.EventWaybillPrinted) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !contains(types, wire.EventPackVerified) || !contains(types, wire.EventWaybillPrinted) || !contains(types, wire.EventPackRejected) {
		t.Fatalf("hub got %v; want pack.rejected, pack.verified and waybill.printed", types)
	}
	if v := a.HubSim().Violations(); len(v) > 0 {
		t.Fatalf("contract violations at the hub: %+v", v)
	}
}

func devState(a *Agent, id string) string {
	for _, d := range a.devs.list() {
		if d.ID == id {
			return d.State
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestRelabelAfterStop: a parcel verified whose label was never queued (the
// agent stopped between the verdict and the print job) gets its label when
// the agent starts again, once.
func TestRelabelAfterStop(t *testing.T) {
	pr, err := printertest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	a := startAgent(t, func(c *config.Config) {
		c.Printers = []config.Printer{{ID: "P1", URL: pr.URL(), Model: "xprinter-xp-470b"}}
		c.Stations = []config.Station{{ID: "PACK-01", Kind: "pack", Printer: "P1"}}
	})
	o := packable(t, a.Store()).Order
	ctx := t.Context()
	// The engine alone: the verdict is recorded, the station never reacts.
	codes := []string{o.Waybill.No}
	for _, l := range o.Lines {
		for range l.Qty {
			codes = append(codes, l.Barcodes[0])
		}
	}
	for _, c := range append(codes, o.Waybill.No) {
		if v, err := a.floor.Scan(ctx, "PACK-01", "W1", c, ""); err != nil || !v.OK {
			t.Fatalf("scan %s: %+v %v", c, v, err)
		}
	}
	if queued, err := a.printq.Queued(o.OrderID); err != nil || queued {
		t.Fatalf("before: queued=%v %v", queued, err)
	}
	for range 2 { // a second start finds the job and prints nothing more
		if err := a.relabel(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if !pr.WaitLabels(1, 10*time.Second) {
		t.Fatal("the lost label was not printed")
	}
	if jobs, err := a.printq.JobsOf(o.OrderID); err != nil || len(jobs) != 1 {
		t.Fatalf("%d print jobs for the order (%v), want exactly 1", len(jobs), err)
	}
	if !bytes.Contains(pr.Data(), []byte(o.Waybill.No)) {
		t.Fatal("the label is not the parcel's waybill")
	}
}
