// Package agent is Dockhand's composition root: it builds every part from the
// configuration (store, hub link, floor engine, printers, scanners, stations, web
// UI) and runs them under one context. Sinks start before sources (store, hub link
// and UI before scanners); on shutdown sources stop first, queues drain, the HTTP
// server gets a bounded grace period and the store is closed last.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dockhand/dockhand/agent/config"
	"github.com/dockhand/dockhand/agent/floor"
	"github.com/dockhand/dockhand/agent/people"
	"github.com/dockhand/dockhand/agent/printing"
	"github.com/dockhand/dockhand/agent/service"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/agent/version"
	"github.com/dockhand/dockhand/drivers/scanner"
	"github.com/dockhand/dockhand/sync/hublink"
	"github.com/dockhand/dockhand/sync/hubsim"
	"github.com/dockhand/dockhand/sync/wire"
	"github.com/dockhand/dockhand/ui"
)

// DataFile is the name of the data file inside data_dir.
const DataFile = "dockhand.db"

// auditIndexEvery is how far the audit log's by-order and by-operator indexes
// may lag behind it (queries read the lagging records directly).
const auditIndexEvery = 2 * time.Second

// Agent is one running Dockhand.
type Agent struct {
	cfg     *config.Config
	log     *slog.Logger
	reg     *prometheus.Registry
	store   *store.Store
	started time.Time

	mux      *http.ServeMux
	listener net.Listener

	link     *hublink.Link
	sim      *hubsim.Hub
	floor    *floor.Engine
	printq   *printing.Queue
	render   printing.LabelRenderer
	stations map[string]*station
	devs     devices
	people   *people.Directory
	web      *ui.Server
	// verdictHook and jobHook tell the UI about verdicts and print jobs.
	verdictHook func(floor.Verdict)
	jobHook     func(printing.Job)
	brokerURL   string
	closers     []func() // run after every part stopped, last first

	mu    sync.Mutex
	parts []part // long-running parts, started in order
	ready chan struct{}
}

// part is one long-running piece of the agent.
type part struct {
	name string
	run  func(ctx context.Context) error
}

// New builds an agent from a validated configuration. It opens the store; the
// caller must call Run (which closes it) or Close.
func New(cfg *config.Config, log *slog.Logger) (*Agent, error) {
	a := &Agent{cfg: cfg, log: log, reg: prometheus.NewRegistry(), started: time.Now(), mux: http.NewServeMux(),
		ready: make(chan struct{})}
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	rules, err := urgentRules(cfg.Urgent)
	if err != nil {
		return nil, err
	}
	s, err := store.Open(filepath.Join(cfg.DataDir, DataFile), store.Options{
		Agent: cfg.Agent, Warehouse: cfg.Warehouse, OutboxCap: cfg.Hub.OutboxCap,
		Classify: rules.Classifier(time.Now),
	})
	if err != nil {
		return nil, err
	}
	a.store = s
	a.reg.MustRegister(newStoreCollector(s))
	a.mux.HandleFunc("GET /healthz", a.healthz)
	a.mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{}))
	a.add("retention", a.purgeLoop)
	a.add("audit index", func(ctx context.Context) error {
		return a.store.RunAuditIndexer(ctx, auditIndexEvery, func(err error) { a.log.Warn("audit index behind", "err", err) })
	})
	if err := a.setupHub(); err != nil {
		a.close()
		return nil, err
	}
	a.devs.notify = func(d []wire.Device) {
		if a.link != nil {
			a.link.UpdateDevices(d)
		}
	}
	if err := a.setupFloor(rules); err != nil {
		a.close()
		return nil, err
	}
	if err := a.setupUI(); err != nil {
		a.close()
		return nil, err
	}
	if err := a.setupPrintAPI(cfg.HTTP.PrintAPIKeyFile); err != nil {
		a.close()
		return nil, err
	}
	if cfg.Debug.Pprof {
		a.mux.HandleFunc("/debug/pprof/", pprof.Index)
		a.mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		a.mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		a.mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	}
	if p := cfg.Debug.ScanSocket; p != "" {
		a.add("test scan socket", func(ctx context.Context) error { return a.serveScanSocket(ctx, p) })
	}
	return a, nil
}

// close releases what New opened, last first; the store goes last of all.
func (a *Agent) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.store.Close()
}

// Store is the agent's store (tests and subcommands).
func (a *Agent) Store() *store.Store { return a.store }

// add appends a long-running part; parts start in the order added.
func (a *Agent) add(name string, run func(ctx context.Context) error) {
	a.mu.Lock()
	a.parts = append(a.parts, part{name: name, run: run})
	a.mu.Unlock()
}

// Ready is closed once the HTTP server listens.
func (a *Agent) Ready() <-chan struct{} { return a.ready }

// Addr is the HTTP listen address once Ready.
func (a *Agent) Addr() string {
	if a.listener == nil {
		return ""
	}
	return a.listener.Addr().String()
}

// Run serves until ctx is cancelled or a part fails, then shuts down in order and
// closes the store. Cancellation is a normal return (nil).
func (a *Agent) Run(ctx context.Context) error {
	defer a.close()
	ln, err := net.Listen("tcp", a.cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("listen for the web UI on %s: %w", a.cfg.HTTP.Listen, err)
	}
	a.listener = ln
	srv := &http.Server{Handler: a.mux, ReadHeaderTimeout: 10 * time.Second}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	errs := make(chan error, len(a.parts)+1)
	for _, p := range a.parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p.run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				err = fmt.Errorf("%s: %w", p.name, err)
				errs <- err
				cancel(err)
			}
		}()
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs <- fmt.Errorf("web UI: %w", err)
			cancel(err)
		}
	}()
	a.log.Info("dockhand running", "version", version.String(), "warehouse", a.cfg.Warehouse, "agent", a.cfg.Agent,
		"http", ln.Addr().String(), "data", a.store.Path(), "demo", a.cfg.DemoMode())
	close(a.ready)
	if !scanner.USBHIDSupported() {
		a.log.Warn("this build has no USB HID support (built without cgo): HID scanners are read through /dev/input only")
	}
	if err := service.Ready(); err != nil {
		a.log.Warn("could not tell the service manager we are ready", "err", err)
	}
	go func() {
		if err := service.WatchdogLoop(ctx, a.healthy); err != nil {
			a.log.Warn("service watchdog", "err", err)
		}
	}()

	<-ctx.Done()
	a.log.Info("dockhand stopping", "reason", context.Cause(ctx))
	_ = service.Stopping()
	shCtx, shCancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer shCancel()
	_ = srv.Shutdown(shCtx)
	wg.Wait()
	close(errs)
	var first error
	for err := range errs {
		if first == nil {
			first = err
		}
	}
	return first
}

// healthy is the watchdog's check: the store answers a read transaction.
func (a *Agent) healthy(context.Context) error {
	_, err := a.store.Stats()
	return err
}

func (a *Agent) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	st, err := a.store.Stats()
	if err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, `{"ok":false,"error":%q}`, err.Error())
		return
	}
	fmt.Fprintf(w, `{"ok":true,"version":%q,"warehouse":%q,"agent":%q,"orders":%d,"open_orders":%d,"feed_seq":%d,"outbox_pending":%d}`,
		version.Version, a.cfg.Warehouse, a.cfg.Agent, st.Orders, st.OpenOrders, st.FeedCursor, st.OutboxPending)
}

// purgeLoop removes shipped and closed orders and finished print jobs past the
// retention, and old scan ids, hourly.
func (a *Agent) purgeLoop(ctx context.Context) error {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		n, err := a.store.Purge(time.Now().Add(-a.cfg.Retention.Orders))
		switch {
		case err != nil:
			a.log.Error("purge old orders", "err", err)
		case n > 0:
			a.log.Info("purged finished orders past retention", "orders", n, "retention", a.cfg.Retention.Orders)
		}
		if a.printq != nil {
			if n, err := a.printq.Purge(ctx, time.Now().Add(-a.cfg.Retention.Orders)); err != nil {
				a.log.Error("purge old print jobs", "err", err)
			} else if n > 0 {
				a.log.Info("purged finished print jobs past retention", "jobs", n)
			}
		}
		// Retried page scans come within minutes; their ids are kept two days.
		if n, err := a.floor.PurgeScanIDs(ctx, time.Now().Add(-48*time.Hour)); err != nil {
			a.log.Error("purge old scan ids", "err", err)
		} else if n > 0 {
			a.log.Info("purged old scan ids", "ids", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// storeCollector exposes the store's counts as metrics.
type storeCollector struct {
	s                                               *store.Store
	orders, open, outbox, quarantine, fileB, cursor *prometheus.Desc
}

func newStoreCollector(s *store.Store) *storeCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("dockhand_store_"+name, help, nil, nil)
	}
	return &storeCollector{s: s,
		orders:     d("orders", "Orders kept in the store."),
		open:       d("open_orders", "Orders still on the floor (released or intercepted)."),
		outbox:     d("outbox_pending", "Floor events waiting for the hub's ack."),
		quarantine: d("quarantined_total", "Bad hub payloads kept for inspection."),
		fileB:      d("file_bytes", "Size of the data file."),
		cursor:     d("feed_seq", "Last applied feed seq."),
	}
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.orders, c.open, c.outbox, c.quarantine, c.fileB, c.cursor} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	st, err := c.s.Stats()
	if err != nil {
		return
	}
	g := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	g(c.orders, float64(st.Orders))
	g(c.open, float64(st.OpenOrders))
	g(c.outbox, float64(st.OutboxPending))
	g(c.quarantine, float64(st.Quarantined))
	g(c.fileB, float64(st.FileBytes))
	g(c.cursor, float64(st.FeedCursor))
}
