package hublink_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dockhand/dockhand/agent/sample"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/hublink"
	"github.com/dockhand/dockhand/sync/hubsim"
	"github.com/dockhand/dockhand/sync/wire"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	testWH    = "HZ01"
	testAgent = "HZ01-A"
)

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("HUBLINK_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func openStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, "agent.db"), store.Options{Agent: testAgent, Warehouse: testWH, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

type runningHub struct {
	*hubsim.Hub
	stop func()
}

func startHub(t testing.TB, broker string, mut func(*hubsim.Config)) *runningHub {
	t.Helper()
	cfg := hubsim.Config{Broker: broker, Warehouse: testWH, DBPath: filepath.Join(t.TempDir(), "hub.db"), Logger: testLogger(t)}
	if mut != nil {
		mut(&cfg)
	}
	h, err := hubsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = h.Run(ctx) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(func() { stop(); h.Close() })
	waitFor(t, 10*time.Second, "hub simulator connected", h.Connected)
	return &runningHub{Hub: h, stop: stop}
}

type runningLink struct {
	*hublink.Link
	reg  *prometheus.Registry
	stop func()
}

func testConfig(broker string) hublink.Config {
	return hublink.Config{
		Broker: broker, Warehouse: testWH, Agent: testAgent, Version: "test",
		Backoff:    hublink.Backoff{Min: 50 * time.Millisecond, Max: 500 * time.Millisecond},
		AckTimeout: 3 * time.Second, ReplayRetry: 500 * time.Millisecond, SnapshotTimeout: 3 * time.Second,
		ResyncInterval: time.Second,
		KeepAlive:      5 * time.Second, ConnectTimeout: 3 * time.Second,
	}
}

func startLink(t testing.TB, broker string, st *store.Store, mut func(*hublink.Config)) *runningLink {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg := testConfig(broker)
	cfg.Registerer = reg
	cfg.Logger = testLogger(t)
	if mut != nil {
		mut(&cfg)
	}
	l, err := hublink.New(cfg, st, st)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = l.Run(ctx) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return &runningLink{Link: l, reg: reg, stop: stop}
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for: %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func cursor(t testing.TB, st *store.Store) uint64 {
	t.Helper()
	n, err := st.LastFeedSeq()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func pending(t testing.TB, st *store.Store) int {
	t.Helper()
	n, _, err := st.OutboxStats()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// appendEvents records n floor events in one transaction, as the floor would
// over time.
func appendEvents(t testing.TB, st *store.Store, n int) {
	t.Helper()
	err := st.Update(func(tx *store.Tx) error {
		for i := range n {
			e := wire.Event{Type: wire.EventPackRejected, OrderID: fmt.Sprintf("O-20260128-%06d", i%500+1),
				Station: wire.OptString("PACK-03"), Operator: wire.OptString("W0123")}
			if err := e.SetData(wire.PackRejectedData{Reason: wire.ReasonWrongItem, Code: "6971234567888"}); err != nil {
				return err
			}
			if _, err := tx.AppendEvent(&e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func lastEventSeq(t testing.TB, st *store.Store) uint64 {
	var n uint64
	if err := st.View(func(tx *store.Tx) error { n = tx.LastEventSeq(); return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// feedOrders queues n generated orders (with holds, notices, intercepts) on the hub.
func feedOrders(t testing.TB, h *runningHub, n int, seed uint64) {
	t.Helper()
	opts := sample.DefaultOptions()
	opts.Count, opts.Seed, opts.Warehouse = n, seed, testWH
	if _, err := h.Feed(sample.Messages(opts)); err != nil {
		t.Fatal(err)
	}
}

func noViolations(t testing.TB, h *runningHub) {
	t.Helper()
	if v := h.Violations(); len(v) > 0 {
		t.Fatalf("hub saw %d contract violations, first: %+v", len(v), v[0])
	}
}

func metric(t testing.TB, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("metric %s %v not found", name, labels)
	return 0
}
