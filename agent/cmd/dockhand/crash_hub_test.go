//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dockhand/dockhand/agent/floor"
	"github.com/dockhand/dockhand/agent/sample"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/hubsim"
	"github.com/dockhand/dockhand/sync/mosqtest"
	"github.com/dockhand/dockhand/sync/wire"
)

// TestKill9DuringDrainAndApply runs the real agent against a real Mosquitto
// and the hub simulator while the hub publishes its feed and three benches
// pack, and kill -9s the agent again and again in the middle of applying the
// feed and draining the outbox. At the end the hub holds every event exactly
// once, in seq order, with no contract violation, and the agent's orders equal
// the feed's.
func TestKill9DuringDrainAndApply(t *testing.T) {
	bin := buildBinary(t)
	br := mosqtest.Start(t, mosqtest.Options{Persistence: true})
	hub, err := hubsim.New(hubsim.Config{Broker: br.URL(), Warehouse: "HZ01",
		DBPath: filepath.Join(t.TempDir(), "hub.db"), Rate: 150,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go hub.Run(ctx)

	opts := sample.DefaultOptions()
	opts.Count = 400
	feed := slices.Collect(sample.Messages(opts))
	if _, err := hub.Feed(slices.Values(feed)); err != nil {
		t.Fatal(err)
	}
	latest := map[string]*wire.Order{}
	for i := range feed {
		if o := feed[i].Order; o != nil {
			latest[o.OrderID] = o
		}
	}
	// The benches pack orders the feed never changes again, early in the feed.
	var plan []wire.Order
	for i := range feed {
		o := feed[i].Order
		if o == nil || latest[o.OrderID] != o || o.Status != wire.StatusReleased || o.Waybill == nil || o.Version != 1 {
			continue
		}
		ok := true
		for _, l := range o.Lines {
			ok = ok && len(l.Barcodes) > 0 && l.SKU != sample.HeldSKU
		}
		if ok {
			plan = append(plan, *o)
		}
		if len(plan) == 30 {
			break
		}
	}

	dir := t.TempDir()
	port := freePort(t)
	sock := filepath.Join(dir, "scan.sock")
	cfg := filepath.Join(dir, "hub.yaml")
	conf := fmt.Sprintf(`data_dir: %s
http:
  listen: 127.0.0.1:%d
hub:
  broker: %s
  ack_timeout: 2s
log:
  level: warn
stations:
  - {id: PACK-01, kind: pack}
  - {id: PACK-02, kind: pack}
  - {id: PACK-03, kind: pack}
debug:
  scan_socket: %s
`, dir, port, br.URL(), sock)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	health := func() (h struct {
		Orders  int    `json:"orders"`
		FeedSeq uint64 `json:"feed_seq"`
		Pending int    `json:"outbox_pending"`
	}, ok bool) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", port))
		if err != nil {
			return h, false
		}
		defer resp.Body.Close()
		return h, json.NewDecoder(resp.Body).Decode(&h) == nil
	}

	stations := []string{"PACK-01", "PACK-02", "PACK-03"}
	work := map[string][]wire.Order{}
	for i, o := range plan {
		work[stations[i%3]] = append(work[stations[i%3]], o)
	}
	rng := rand.New(rand.NewPCG(3, 5))
	kills := 0
	for round := 0; ; round++ {
		cmd := exec.Command(bin, "run", "-config", cfg)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The benches start once the orders they pack have arrived.
		deadline := time.Now().Add(30 * time.Second)
		for {
			if h, ok := health(); ok && h.Orders >= 150 {
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatal("the feed did not reach the agent")
			}
			time.Sleep(20 * time.Millisecond)
		}
		var wg sync.WaitGroup
		finished := make([]bool, len(stations))
		for i, st := range stations {
			wg.Add(1)
			go func() {
				defer wg.Done()
				finished[i] = packer(sock, st, work[st], func(floor.Verdict) {})
			}()
		}
		if round < 12 {
			time.Sleep(time.Duration(50+rng.IntN(400)) * time.Millisecond)
			cmd.Process.Signal(syscall.SIGKILL)
			kills++
			cmd.Wait()
			wg.Wait()
			continue
		}
		wg.Wait()
		for i, ok := range finished {
			if !ok {
				t.Fatalf("station %s could not finish its orders", stations[i])
			}
		}
		// Let the feed and the outbox settle, then stop cleanly.
		deadline = time.Now().Add(60 * time.Second)
		for {
			h, ok := health()
			if ok && h.FeedSeq == hub.Seq() && h.Pending == 0 && hub.Queued() == 0 {
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("no settling: agent %+v, hub seq %d, queued %d", h, hub.Seq(), hub.Queued())
			}
			time.Sleep(50 * time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		break
	}

	s, err := store.Open(filepath.Join(dir, "dockhand.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var last uint64
	s.View(func(tx *store.Tx) error { last = tx.LastEventSeq(); return nil })
	evs, err := hub.Events("HZ01-A")
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(evs)) != last {
		t.Fatalf("after %d kills the hub stored %d events, the agent recorded %d", kills, len(evs), last)
	}
	ids := map[string]bool{}
	verified := 0
	for i, e := range evs {
		if e.Seq != uint64(i+1) || ids[e.Event.EventID] {
			t.Fatalf("hub event %d has seq %d (or a repeated id)", i, e.Seq)
		}
		ids[e.Event.EventID] = true
		if e.Event.Type == wire.EventPackVerified {
			verified++
		}
	}
	if verified != len(plan) {
		t.Fatalf("hub got %d pack.verified, want %d", verified, len(plan))
	}
	if v := hub.Violations(); len(v) > 0 {
		t.Fatalf("contract violations: %+v", v)
	}
	err = s.View(func(tx *store.Tx) error {
		for id, o := range latest {
			r, err := tx.Order(id)
			if err != nil {
				return fmt.Errorf("order %s of the feed is missing: %w", id, err)
			}
			if r.Order.Version != o.Version || r.Order.Status != o.Status {
				return fmt.Errorf("order %s: agent has v%d %s, feed v%d %s", id, r.Order.Version, r.Order.Status, o.Version, o.Status)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d kill -9s during apply and drain; hub stored %d events exactly once; %d orders equal the feed", kills, len(evs), len(latest))
}
