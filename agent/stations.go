package agent

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/dockhand/dockhand/agent/config"
	"github.com/dockhand/dockhand/agent/floor"
	"github.com/dockhand/dockhand/agent/printing"
	"github.com/dockhand/dockhand/agent/urgent"
	"github.com/dockhand/dockhand/drivers/label"
	"github.com/dockhand/dockhand/drivers/printer"
	"github.com/dockhand/dockhand/drivers/scanner"
	"github.com/dockhand/dockhand/drivers/signal"
	"github.com/dockhand/dockhand/sync/wire"
)

// station is one configured bench, PDA group or dock with its devices.
type station struct {
	cfg   config.Station
	tower *signal.Tower // nil when no light tower is wired

	mu       sync.Mutex
	operator string // who signed in at the station's screen

	prints chan printRequest // verified parcels whose waybill the station prints, in order
}

// printRequest asks a station's printer for a verified parcel's waybill.
type printRequest struct{ operator, orderID string }

// devices tracks every device's state for the hub status and the UI.
type devices struct {
	mu     sync.Mutex
	states map[string]wire.Device
	notify func([]wire.Device)
}

func (d *devices) set(id, kind, state string) {
	d.mu.Lock()
	if d.states == nil {
		d.states = map[string]wire.Device{}
	}
	old, had := d.states[id]
	d.states[id] = wire.Device{ID: id, Kind: kind, State: state}
	list := d.listLocked()
	fn := d.notify
	d.mu.Unlock()
	if fn != nil && (!had || old.State != state) {
		fn(list)
	}
}

func (d *devices) list() []wire.Device {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.listLocked()
}

func (d *devices) listLocked() []wire.Device {
	out := make([]wire.Device, 0, len(d.states))
	for _, v := range d.states {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// urgentRules maps the configuration onto the local urgent rules.
func urgentRules(c config.Urgent) (urgent.Rules, error) {
	carriers, err := urgent.ParseCarrierRules(c.Carriers)
	if err != nil {
		return urgent.Rules{}, fmt.Errorf("urgent.carriers: %w", err)
	}
	r := urgent.Rules{Keywords: c.Keywords, Tiers: c.Tiers, DueWithin: c.DueWithin, Carriers: carriers, Tags: c.Tags}
	return r, r.Validate()
}

// setupFloor builds the engine, the print queue and the stations with their
// scanners and signal outputs.
func (a *Agent) setupFloor(rules urgent.Rules) error {
	a.floor = floor.New(a.store, floor.Options{Rules: rules, Logger: a.log})

	pcs, err := printerConfigs(a.cfg.Printers)
	if err != nil {
		return err
	}
	var fonts *label.Fonts
	if len(pcs) > 0 {
		if fonts, err = label.FontsFor(""); err != nil {
			return fmt.Errorf("printers need a CJK font for labels: %w", err)
		}
	}
	a.render = printing.LabelRenderer{Fonts: fonts}
	a.printq, err = printing.New(printing.Options{Store: a.store, Renderer: a.render, Log: a.log,
		OnPrinter: func(id string, st printer.Status) { a.devs.set(id, "printer", string(st.State.Hub())) },
		OnJob:     a.onPrintJob,
	}, pcs)
	if err != nil {
		return err
	}
	for _, p := range pcs {
		a.devs.set(p.ID, "printer", string(printer.Offline))
	}
	a.add("printers", a.printq.Run)
	a.add("lost labels", a.relabel)

	scanners := map[string]config.Scanner{}
	for _, sc := range a.cfg.Scanners {
		scanners[sc.ID] = sc
	}
	a.stations = map[string]*station{}
	for _, sc := range a.cfg.Stations {
		st := &station{cfg: sc, prints: make(chan printRequest, 64)}
		a.add("station "+sc.ID+" labels", func(ctx context.Context) error { return a.printLoop(ctx, sc.ID, st.prints) })
		if sc.Signal != "" {
			tower, err := a.openTower(sc)
			if err != nil {
				return err
			}
			st.tower = tower
		}
		a.stations[sc.ID] = st
		for _, id := range sc.Scanners {
			cfgSc := scanners[id]
			stationID := sc.ID
			open, err := scannerOpener(cfgSc, func(ctx context.Context, s scanner.Scan) { a.hardwareScan(ctx, stationID, s) }, a.log)
			if err != nil {
				return err
			}
			a.devs.set(id, "scanner", "disconnected")
			sup := &scanner.Supervisor{Name: id, Open: open, Logger: a.log,
				OnState: func(name string, s scanner.State, _ error) { a.devs.set(name, "scanner", string(s)) }}
			a.add("scanner "+id, sup.Run)
		}
	}
	return nil
}

// openTower opens a station's relay light tower (channels: 1 green, 2 red, 3 buzzer).
func (a *Agent) openTower(sc config.Station) (*signal.Tower, error) {
	u, err := url.Parse(sc.Signal)
	if err != nil {
		return nil, fmt.Errorf("station %s signal: %w", sc.ID, err)
	}
	port, err := signal.OpenRelayPort(u.Path)
	if err != nil {
		// A missing relay is not worth stopping the floor for; say so.
		a.log.Warn("station light tower not reachable; verdicts show on screen only", "station", sc.ID, "err", err)
		return nil, nil
	}
	a.closers = append(a.closers, func() { port.Close() })
	relay, err := signal.NewLCUS(port, 3)
	if err != nil {
		return nil, err
	}
	return &signal.Tower{Out: relay, Green: 1, Red: 2, Buzzer: 3}, nil
}

// hardwareScan takes a scan from a station's wired scanner.
func (a *Agent) hardwareScan(ctx context.Context, stationID string, s scanner.Scan) {
	st := a.stations[stationID]
	operator := ""
	if st != nil {
		st.mu.Lock()
		operator = st.operator
		st.mu.Unlock()
	}
	if _, err := a.scanAt(ctx, stationID, operator, s.Code, s.Symbology); err != nil {
		a.log.Error("scan not recorded", "station", stationID, "scanner", s.Source, "err", err)
	}
}

// scanAt is every scan's way in, from hardware, the pages or the test socket:
// the engine decides and records it durably, then the station reacts (print,
// light tower, screens).
func (a *Agent) scanAt(ctx context.Context, stationID, operator, code, symbology string) (floor.Verdict, error) {
	v, err := a.floor.Scan(ctx, stationID, operator, code, symbology)
	if err != nil {
		a.signal(stationID, signal.Alarm)
		return v, err
	}
	a.afterVerdict(ctx, stationID, operator, v)
	return v, nil
}

// afterVerdict is the station's reaction to a wired scanner's verdict.
func (a *Agent) afterVerdict(ctx context.Context, stationID, operator string, v floor.Verdict) {
	a.react(ctx, stationID, operator, v.OK, v.Print, v.OrderID)
	if a.verdictHook != nil {
		a.verdictHook(v)
	}
}

// react drives the light tower and has a verified parcel's waybill printed on
// the station's printer, whoever scanned (wired scanner, PDA, station screen).
// The verdict is already durable and goes back at once: laying out the label
// and queueing its print job (a commit of its own) happen behind it, in the
// station's order.
func (a *Agent) react(ctx context.Context, stationID, operator string, ok, print bool, orderID string) {
	if ok {
		a.signal(stationID, signal.Good)
	} else {
		a.signal(stationID, signal.Bad)
	}
	if !print {
		return
	}
	req := printRequest{operator: operator, orderID: orderID}
	st := a.stations[stationID]
	if st == nil {
		a.printFor(ctx, stationID, req)
		return
	}
	select {
	case st.prints <- req:
	case <-ctx.Done():
	}
}

// printLoop queues a station's waybills one after another.
func (a *Agent) printLoop(ctx context.Context, stationID string, reqs <-chan printRequest) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case r := <-reqs:
			a.printFor(ctx, stationID, r)
		}
	}
}

// relabelAfter is how far back the agent looks, when it starts, for verified
// parcels whose label was never queued.
const relabelAfter = 24 * time.Hour

// relabel queues the waybill of every parcel verified at a station with a
// printer (in the last relabelAfter, not handed over or pulled) that has no
// print job: the agent stopped between the verdict and queueing the label. The
// print queue checks again that the order may still be printed.
func (a *Agent) relabel(ctx context.Context) error {
	type lost struct{ station, orderID, operator string }
	var todo []lost
	err := a.floor.VerifiedSince(ctx, time.Now().Add(-relabelAfter), func(id string, st floor.OrderState) bool {
		if _, err := a.printerFor(st.Station); err != nil {
			return true
		}
		if queued, err := a.printq.Queued(id); err == nil && !queued {
			todo = append(todo, lost{st.Station, id, st.VerifiedBy})
		}
		return true
	})
	if err != nil {
		return err
	}
	for _, l := range todo {
		a.log.Warn("verified parcel had no label queued (the agent stopped in between): printing it now",
			"station", l.station, "order", l.orderID)
		a.printFor(ctx, l.station, printRequest{operator: l.operator, orderID: l.orderID})
	}
	return nil
}

func (a *Agent) printFor(ctx context.Context, stationID string, r printRequest) {
	id, err := a.printerFor(stationID)
	if err != nil {
		a.log.Warn("waybill not printed", "station", stationID, "order", r.orderID, "err", err)
		return
	}
	if _, err := a.printq.PrintWaybill(ctx, r.orderID, id, stationID, r.operator); err != nil {
		a.log.Warn("waybill not printed", "station", stationID, "order", r.orderID, "err", err)
	}
}

func (a *Agent) signal(stationID string, v signal.Verdict) {
	st := a.stations[stationID]
	if st == nil || st.tower == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := st.tower.Signal(ctx, v); err != nil {
			a.log.Warn("station light tower", "station", stationID, "err", err)
		}
	}()
}

func (a *Agent) onPrintJob(j printing.Job) {
	if a.jobHook != nil {
		a.jobHook(j)
	}
}
