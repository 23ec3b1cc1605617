package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dockhand/dockhand/agent/config"
	"github.com/dockhand/dockhand/agent/sample"
	"github.com/dockhand/dockhand/agent/version"
	"github.com/dockhand/dockhand/drivers/printertest"
	"github.com/dockhand/dockhand/sync/broker"
	"github.com/dockhand/dockhand/sync/hublink"
	"github.com/dockhand/dockhand/sync/hubsim"
	"github.com/dockhand/dockhand/sync/wire"
)

// setupHub builds the hub link; in demo mode it first starts the embedded broker
// and the hub simulator with sample orders.
func (a *Agent) setupHub() error {
	cfg := a.cfg
	brokerURL := cfg.Hub.Broker
	if cfg.DemoMode() {
		addr := fmt.Sprintf("127.0.0.1:%d", cfg.Demo.BrokerPort)
		b, err := broker.Start(addr, a.log)
		if err != nil {
			return fmt.Errorf("start the demo broker on %s: %w", addr, err)
		}
		a.closers = append(a.closers, func() { b.Close() })
		brokerURL = b.URL()
		a.brokerURL = brokerURL
		sim, err := hubsim.New(hubsim.Config{Broker: brokerURL, Warehouse: cfg.Warehouse,
			DBPath: filepath.Join(cfg.DataDir, "hubsim.db"), Logger: a.log})
		if err != nil {
			return fmt.Errorf("start the hub simulator: %w", err)
		}
		a.sim = sim
		a.closers = append(a.closers, func() { sim.Close() })
		a.add("hubsim", sim.Run)
		if err := a.loadDemoFeed(sim); err != nil {
			return err
		}
		if err := a.demoFloor(); err != nil {
			return err
		}
	}
	pw, err := cfg.BrokerPassword()
	if err != nil {
		return err
	}
	a.warnReadableSecrets()
	link, err := hublink.New(hublink.Config{
		Broker: brokerURL, Warehouse: cfg.Warehouse, Agent: cfg.Agent,
		Username: cfg.Hub.Username, Password: pw,
		TLS: hublink.TLSConfig{CAFile: cfg.Hub.TLS.CAFile, CertFile: cfg.Hub.TLS.CertFile,
			KeyFile: cfg.Hub.TLS.KeyFile, ServerName: cfg.Hub.TLS.ServerName},
		Version: version.Version, StartedAt: a.started,
		Window: cfg.Hub.Window, AckTimeout: cfg.Hub.AckTimeout, OutboxCap: cfg.Hub.OutboxCap,
		// A site's broker coming back after an outage is found within ~10 s.
		Backoff:    hublink.Backoff{Max: 10 * time.Second},
		Registerer: a.reg, Logger: a.log,
		OnApplied: a.onApplied,
	}, a.store, a.store)
	if err != nil {
		return fmt.Errorf("hub link: %w", err)
	}
	a.link = link
	a.add("hublink", link.Run)
	return nil
}

// loadDemoFeed queues the demo's orders in the simulator: a JSONL file when
// configured, else generated sample orders — only when the simulator's feed is
// new, so a restarted demo does not publish the same orders again.
func (a *Agent) loadDemoFeed(sim *hubsim.Hub) error {
	if sim.Seq() > 0 {
		return nil
	}
	if f := a.cfg.Demo.FeedFile; f != "" {
		r, err := os.Open(f)
		if err != nil {
			return fmt.Errorf("demo feed: %w", err)
		}
		defer r.Close()
		n, err := sim.Load(r)
		if err != nil {
			return fmt.Errorf("demo feed %s: %w", f, err)
		}
		a.log.Info("demo feed loaded", "file", f, "messages", n)
		return nil
	}
	opts := sample.DefaultOptions()
	opts.Count = a.cfg.Demo.Orders
	opts.Seed = uint64(a.cfg.Demo.Seed)
	opts.Warehouse = a.cfg.Warehouse
	// Orders that arrived this morning, so the floor's clocks make sense.
	opts.Start = time.Now().Add(-time.Duration(opts.Count) * opts.Interval)
	n, err := sim.Feed(sample.Messages(opts))
	if err != nil {
		return fmt.Errorf("demo feed: %w", err)
	}
	a.log.Info("demo orders generated", "messages", n)
	return nil
}

// onApplied hears the hub link apply feed changes.
func (a *Agent) onApplied(st wire.ApplyStats) {
	if st.Quarantined > 0 {
		a.log.Warn("bad hub messages quarantined", "count", st.Quarantined, "last_seq", st.LastSeq)
	}
}

// HubSim is the demo's hub simulator, or nil.
func (a *Agent) HubSim() *hubsim.Hub { return a.sim }

// demoFloor gives the demo a packing bench, a pick PDA group and a dock when the
// configuration names none, with a simulated network label printer on loopback,
// so the whole flow (verify → print → hand over) can be tried without hardware.
func (a *Agent) demoFloor() error {
	if len(a.cfg.Stations) > 0 || len(a.cfg.Printers) > 0 {
		return nil
	}
	p, err := printertest.Start()
	if err != nil {
		return fmt.Errorf("start the demo printer: %w", err)
	}
	a.closers = append(a.closers, p.Close)
	a.cfg.Printers = []config.Printer{{ID: "demo-printer", URL: p.URL(), Model: "xprinter-xp-470b"}}
	a.cfg.Stations = []config.Station{
		{ID: "PACK-01", Kind: "pack", Printer: "demo-printer"},
		{ID: "PACK-02", Kind: "pack", Printer: "demo-printer"},
		{ID: "PICK-01", Kind: "pick"},
		{ID: "DOCK-01", Kind: "handover"},
	}
	a.log.Info("demo floor: stations PACK-01, PACK-02, PICK-01, DOCK-01 and a simulated label printer", "printer", p.URL())
	return nil
}

// warnReadableSecrets says so when the broker password file or the TLS key can
// be read by every user on the machine (the package installs them 0640
// root:dockhand).
func (a *Agent) warnReadableSecrets() {
	for key, f := range map[string]string{"hub.password_file": a.cfg.Hub.PasswordFile, "hub.tls.key_file": a.cfg.Hub.TLS.KeyFile} {
		if f == "" {
			continue
		}
		st, err := os.Stat(f)
		if err != nil {
			continue
		}
		if mode := st.Mode().Perm(); mode&0o004 != 0 {
			a.log.Warn("a secret file is readable by every user on this machine; make it 0640 root:dockhand",
				"setting", key, "file", f, "mode", fmt.Sprintf("%04o", mode))
		}
	}
}
