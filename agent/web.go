package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/dockhand/dockhand/agent/config"
	"github.com/dockhand/dockhand/agent/floor"
	"github.com/dockhand/dockhand/agent/people"
	"github.com/dockhand/dockhand/agent/printing"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/ui"
)

// setupUI builds the operators' directory and the web UI and mounts it under /.
func (a *Agent) setupUI() error {
	a.people = people.New(a.store, people.Options{})
	if m := a.cfg.BootstrapManager; m.Code != "" {
		created, err := a.people.EnsureManager(m.Code, m.Name, m.PIN)
		if err != nil {
			return fmt.Errorf("bootstrap manager: %w", err)
		}
		if created {
			a.log.Warn("created the first manager account from the config; change its PIN after signing in", "code", m.Code)
		}
	}
	ef := &ui.EngineFloor{E: a.floor, S: a.store}
	srv := ui.New(ui.Options{
		Store: a.store, People: a.people,
		Floor: &uiFloor{EngineFloor: ef, a: a}, Facts: ef,
		Printing: uiPrinting{a: a}, Status: uiStatus{a: a},
		DevDir: a.cfg.HTTP.AssetsDir, AllowedOrigins: a.cfg.HTTP.AllowedOrigins,
		EscalateAfter: a.cfg.Urgent.EscalateIn, Log: a.log,
	})
	a.web = srv
	a.mux.Handle("/", srv)
	a.add("web UI", srv.Run)
	// Verdicts of wired scanners reach the station screens.
	a.verdictHook = func(v floor.Verdict) { srv.PublishVerdict(ui.FromEngineVerdict(v)) }
	return nil
}

// uiFloor is the engine as the pages use it, with the station's reaction
// (printing a verified parcel's waybill, the light tower) after each verdict, so
// a PDA or a screen scan does what a wired scanner's does.
type uiFloor struct {
	*ui.EngineFloor
	a *Agent
}

func (f *uiFloor) Scan(ctx context.Context, in ui.ScanInput) (ui.Verdict, error) {
	v, err := f.EngineFloor.Scan(ctx, in)
	if err != nil {
		return v, err
	}
	if !v.Replayed {
		f.a.react(ctx, in.Station, in.Operator, v.OK, v.Print, v.OrderID)
	}
	return v, nil
}

// Action is a step that is not a scan; confirming the last unlabelled line by
// hand can finish an order just as a scan does, and prints its label the same way.
func (f *uiFloor) Action(ctx context.Context, in ui.ActionInput) (ui.Verdict, error) {
	v, err := f.EngineFloor.Action(ctx, in)
	if err != nil {
		return v, err
	}
	if !v.Replayed {
		f.a.react(ctx, in.Station, in.Operator, v.OK, v.Print, v.OrderID)
	}
	return v, nil
}

// uiPrinting is the print queue as the pages use it.
type uiPrinting struct{ a *Agent }

// printerFor is the station's printer, else the only printer there is.
func (a *Agent) printerFor(stationID string) (string, error) {
	if st := a.stations[stationID]; st != nil && st.cfg.Printer != "" {
		return st.cfg.Printer, nil
	}
	ps := a.printq.Printers()
	if len(ps) == 1 {
		return ps[0].ID, nil
	}
	if len(ps) == 0 {
		return "", errors.New("没有配置打印机 (no printer is configured)")
	}
	return "", fmt.Errorf("station %q has no printer of its own; choose one of %d", stationID, len(ps))
}

func (p uiPrinting) Preview(_ context.Context, orderID string) ([]byte, error) {
	var rec *store.OrderRecord
	err := p.a.store.View(func(tx *store.Tx) error {
		r, err := tx.Order(orderID)
		rec = r
		return err
	})
	if err != nil {
		return nil, err
	}
	prof := printing.Profile{}
	if ps := p.a.printq.Printers(); len(ps) > 0 {
		prof, _ = p.a.printq.Profile(ps[0].ID)
	} else {
		var err error
		if prof, err = defaultProfile(); err != nil {
			return nil, err
		}
	}
	if p.a.render.Fonts == nil {
		return nil, errors.New("no CJK font found for the preview (install fonts-noto-cjk)")
	}
	return p.a.render.Preview(rec, prof)
}

func (p uiPrinting) Reprint(ctx context.Context, in ui.ReprintInput) (string, error) {
	id, err := p.a.printerFor(in.Station)
	if err != nil {
		return "", err
	}
	j, err := p.a.printq.Reprint(ctx, in.OrderID, id, in.Station, in.Operator, in.Reason, in.AuthorizedBy)
	return j.ID, err
}

func (p uiPrinting) Printers(context.Context) ([]ui.PrinterState, error) {
	station := map[string]string{}
	for id, st := range p.a.stations {
		if st.cfg.Printer != "" {
			station[st.cfg.Printer] = id
		}
	}
	var out []ui.PrinterState
	for _, ps := range p.a.printq.Printers() {
		out = append(out, ui.PrinterState{ID: ps.ID, Station: station[ps.ID], State: string(ps.Status.State.Hub()), Detail: ps.Status.Detail})
	}
	return out, nil
}

// uiStatus is the hub link and the devices as the manager console shows them.
type uiStatus struct{ a *Agent }

func (s uiStatus) Status(context.Context) (ui.StatusView, error) {
	v := ui.StatusView{Devices: s.a.devs.list()}
	if s.a.link == nil {
		v.HubLink.State = "offline"
		return v, nil
	}
	st := s.a.link.State()
	switch {
	case st.Connected:
		v.HubLink.State, v.HubLink.Since = "online", st.ConnectedSince
	case st.Reconnects > 0 || len(st.Problems) > 0:
		v.HubLink.State = "connecting"
	default:
		v.HubLink.State = "offline"
	}
	v.HubLink.Error = strings.Join(st.Problems, "; ")
	return v, nil
}

// defaultProfile is the label previewed when no printer is configured.
func defaultProfile() (printing.Profile, error) {
	pcs, err := printerConfigs([]config.Printer{{ID: "preview", URL: "file:///dev/null"}})
	if err != nil {
		return printing.Profile{}, err
	}
	return pcs[0].Profile, nil
}
