//go:build linux

package agent

import (
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dockhand/dockhand/agent/config"
	"github.com/dockhand/dockhand/agent/floor"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/drivers/ptytest"
	"github.com/dockhand/dockhand/sync/wire"
)

// BenchmarkScanToVerdict50Stations measures the whole station path under the
// issue's load: 50 benches, each with a serial scanner on a real
// pseudo-terminal, 200 scans/s in all (4 per bench, as fast as a packer
// goes). Latency runs from the scanner's bytes entering the line to the
// verdict reaching the station's screen, the durable commit included. The
// baseline, measured in the same run on the same disk, is one bare bbolt
// put + commit.
func BenchmarkScanToVerdict50Stations(b *testing.B) {
	const stations = 50
	const rate = 200.0              // scans per second, all stations together
	config.Default().Memory.Apply() // the collector as the daemon runs it
	baseline := bareCommitP99(b)

	var ptys []*ptytest.Pair
	for i := 0; i < stations; i++ {
		p, err := ptytest.Open()
		if err != nil {
			b.Skip("no pseudo-terminals:", err)
		}
		defer p.Close()
		ptys = append(ptys, p)
	}
	a := startAgent(b, func(c *config.Config) {
		c.Demo.Orders = 3000
		for i, p := range ptys {
			id := fmt.Sprintf("S%02d", i)
			c.Scanners = append(c.Scanners, config.Scanner{ID: id, URL: "serial://" + p.Name, Terminator: "cr"})
			c.Stations = append(c.Stations, config.Station{ID: fmt.Sprintf("PACK-%02d", i), Kind: "pack", Scanners: []string{id}})
		}
	})
	verdicts := map[string]chan floor.Verdict{}
	for i := 0; i < stations; i++ {
		verdicts[fmt.Sprintf("PACK-%02d", i)] = make(chan floor.Verdict, 4)
	}
	a.verdictHook = func(v floor.Verdict) { verdicts[v.Station] <- v }
	orders := waitPackable(b, a.Store(), 1500)

	for range b.N {
		// Each bench packs its own orders; scans are spaced so that all benches
		// together scan at the target rate.
		var mu sync.Mutex
		var lat []time.Duration
		var wg sync.WaitGroup
		perStation := time.Duration(float64(time.Second) * stations / rate)
		deadline := time.Now().Add(10 * time.Second)
		for i := 0; i < stations; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st := fmt.Sprintf("PACK-%02d", i)
				next := time.Now().Add(time.Duration(i) * perStation / stations)
				for k := i; k < len(orders) && time.Now().Before(deadline); k += stations {
					o := orders[k]
					codes := []string{o.Waybill.No}
					for _, l := range o.Lines {
						for q := 0; q < l.Qty; q++ {
							codes = append(codes, l.Barcodes[0])
						}
					}
					codes = append(codes, o.Waybill.No)
					for _, c := range codes {
						time.Sleep(time.Until(next))
						next = next.Add(perStation)
						t0 := time.Now()
						if err := ptys[i].Type(c); err != nil {
							return
						}
						select {
						case <-verdicts[st]:
						case <-time.After(5 * time.Second):
							return
						}
						d := time.Since(t0)
						mu.Lock()
						lat = append(lat, d)
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		if len(lat) < 100 {
			b.Fatalf("only %d verdicts", len(lat))
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		b.ReportMetric(float64(len(lat))/10, "verdicts/s")
		b.ReportMetric(float64(baseline.Microseconds()), "bare-commit-p99-µs")
	}
}

// bareCommitP99 is the p99 of one bare bbolt put + durable commit on this disk.
func bareCommitP99(b *testing.B) time.Duration {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "bare.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	v := make([]byte, 400)
	var d []time.Duration
	for i := 0; i < 1000; i++ {
		t0 := time.Now()
		db.Update(func(tx *bolt.Tx) error {
			bk, _ := tx.CreateBucketIfNotExists([]byte("e"))
			return bk.Put([]byte(fmt.Sprint(i)), v)
		})
		d = append(d, time.Since(t0))
	}
	slices.Sort(d)
	return d[len(d)*99/100]
}

// waitPackable waits for n orders a packer can finish to arrive from the hub.
func waitPackable(b *testing.B, s *store.Store, n int) []wire.Order {
	var out []wire.Order
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		out = out[:0]
		s.View(func(tx *store.Tx) error {
			return tx.OpenOrders(func(r *store.OrderRecord) bool {
				o := r.Order
				if o.Status != wire.StatusReleased || o.Waybill == nil {
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
				out = append(out, o)
				return len(out) < n
			})
		})
		if len(out) >= n {
			return out
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.Fatalf("only %d packable orders arrived", len(out))
	return nil
}
