package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/dockhand/dockhand/agent/sample"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/wire"
)

// The daemon benchmarks start the real binary on a store of N orders and measure
// what an operator sees: time from exec to /healthz answering, and the process's
// resident memory. Sizes: BenchmarkDaemon100k (issue target: cold start < 300 ms)
// and BenchmarkDaemon1M (RSS < 100 MB).

func buildBinary(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "dockhand")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("build dockhand: %v", err)
	}
	return bin
}

func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// loadStore fills dir/dockhand.db with n generated orders.
func loadStore(tb testing.TB, dir string, n int) {
	tb.Helper()
	s, err := store.Open(filepath.Join(dir, "dockhand.db"), store.Options{Agent: "HZ01-A", Warehouse: "HZ01"})
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	opts := sample.DefaultOptions()
	opts.Count = n
	batch := make([]wire.FeedItem, 0, 5000)
	var seq uint64
	flush := func() {
		if _, err := s.ApplyFeed(batch); err != nil {
			tb.Fatal(err)
		}
		batch = batch[:0]
	}
	for m := range sample.Messages(opts) {
		seq++
		m.Seq = seq
		mm := m
		batch = append(batch, wire.FeedItem{Msg: &mm})
		if len(batch) == cap(batch) {
			flush()
		}
	}
	flush()
}

// startDaemon runs the binary on dir and returns the time until /healthz answered.
func startDaemon(tb testing.TB, bin, dir string) (*exec.Cmd, time.Duration, string) {
	tb.Helper()
	port := freePort(tb)
	cfg := filepath.Join(dir, "bench.yaml")
	// A broker that is not there: the link retries in the background, as on a
	// site whose internet is down; nothing else waits for it.
	conf := fmt.Sprintf("data_dir: %s\nhttp:\n  listen: 127.0.0.1:%d\nhub:\n  broker: tcp://127.0.0.1:%d\nlog:\n  level: warn\n", dir, port, freePort(tb))
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		tb.Fatal(err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/healthz", port)
	start := time.Now()
	cmd := exec.Command(bin, "run", "-config", cfg)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd, time.Since(start), url
			}
		}
		if time.Since(start) > 60*time.Second {
			cmd.Process.Kill()
			tb.Fatalf("daemon did not answer %s within 60 s", url)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func benchDaemon(b *testing.B, orders int) {
	bin := buildBinary(b)
	dir := b.TempDir()
	loadStore(b, dir, orders)
	// Drop the file from the page cache's favour as far as we can: a cold start
	// after a reboot reads it from disk; here we report the warm-cache figure.
	var starts []time.Duration
	var rss, idleRSS int
	for range b.N {
		cmd, d, url := startDaemon(b, bin, dir)
		starts = append(starts, d)
		time.Sleep(500 * time.Millisecond)
		idleRSS = procKB(cmd.Process.Pid, "VmRSS:")
		// Touch the store through the API a few times, as a floor would.
		for range 50 {
			if resp, err := http.Get(url); err == nil {
				resp.Body.Close()
			}
		}
		rss = procKB(cmd.Process.Pid, "VmRSS:")
		cmd.Process.Signal(os.Interrupt)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-ctx.Done():
			cmd.Process.Kill()
		}
		cancel()
	}
	var total time.Duration
	for _, d := range starts {
		total += d
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(len(starts)), "start-to-healthz-ms")
	b.ReportMetric(float64(idleRSS)/1024, "idle-RSS-MB")
	b.ReportMetric(float64(rss)/1024, "RSS-MB")
}

func BenchmarkDaemon100k(b *testing.B) { benchDaemon(b, 100_000) }
func BenchmarkDaemon1M(b *testing.B)   { benchDaemon(b, 1_000_000) }

// BenchmarkBaselineTrueStart is the floor under start-up time: exec of a tiny
// process that exits at once.
func BenchmarkBaselineTrueStart(b *testing.B) {
	for range b.N {
		if err := exec.Command("true").Run(); err != nil {
			b.Fatal(err)
		}
	}
}
