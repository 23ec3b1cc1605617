package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/hubsim"
	"github.com/dockhand/dockhand/sync/mosqtest"
	"github.com/dockhand/dockhand/sync/wire"
)

// BenchmarkCatchUp50kAgentRSS: the real agent comes back after an outage with
// 50,000 events in its outbox and drains them to the hub simulator through a
// real Mosquitto. It reports the catch-up time and the agent process's peak
// resident memory (VmHWM) while it caught up.
func BenchmarkCatchUp50kAgentRSS(b *testing.B) {
	const events = 50_000
	bin := buildBinary(b)
	for range b.N {
		br := mosqtest.Start(b, mosqtest.Options{})
		hub, err := hubsim.New(hubsim.Config{Broker: br.URL(), Warehouse: "HZ01", DBPath: filepath.Join(b.TempDir(), "hub.db"),
			Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		go hub.Run(ctx)

		dir := b.TempDir()
		s, err := store.Open(filepath.Join(dir, "dockhand.db"), store.Options{Agent: "HZ01-A", Warehouse: "HZ01", NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < events; i += 1000 {
			err := s.Update(func(tx *store.Tx) error {
				for j := 0; j < 1000; j++ {
					e := &wire.Event{Type: wire.EventExceptionReported, OrderID: fmt.Sprintf("O-%06d", i+j)}
					if err := e.SetData(wire.ExceptionData{Category: "other", Text: "外箱破损 box damaged"}); err != nil {
						return err
					}
					if _, err := tx.AppendEvent(e); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		s.Close()

		port := freePort(b)
		cfg := filepath.Join(dir, "c.yaml")
		conf := fmt.Sprintf("data_dir: %s\nhttp:\n  listen: 127.0.0.1:%d\nhub:\n  broker: %s\n  window: 5000\nlog:\n  level: warn\n", dir, port, br.URL())
		if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		cmd := exec.Command(bin, "run", "-config", cfg)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Minute)
		for hub.EventCount("HZ01-A") < events || pending(port) != 0 {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				b.Fatalf("not caught up: hub has %d of %d", hub.EventCount("HZ01-A"), events)
			}
			time.Sleep(20 * time.Millisecond)
		}
		took := time.Since(start)
		hwm := procKB(cmd.Process.Pid, "VmHWM:")
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		cancel()
		hub.Close()
		if v := hub.Violations(); len(v) > 0 {
			b.Fatalf("contract violations: %+v", v[:min(3, len(v))])
		}
		b.ReportMetric(took.Seconds(), "catchup-s")
		b.ReportMetric(float64(events)/took.Seconds(), "events/s")
		b.ReportMetric(float64(hwm)/1024, "peak-RSS-MB")
	}
}

func pending(port int) int {
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", port))
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var h struct {
		Pending int `json:"outbox_pending"`
	}
	if json.NewDecoder(resp.Body).Decode(&h) != nil {
		return -1
	}
	return h.Pending
}

func procKB(pid int, field string) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			var kb int
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kb)
			return kb
		}
	}
	return 0
}
