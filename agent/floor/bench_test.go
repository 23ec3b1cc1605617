package floor

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockhand/dockhand/agent/config"
	"github.com/dockhand/dockhand/agent/sample"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/wire"
)

// The benchmarks run the engine on a store loaded with BENCH_ORDERS generated
// orders (default 1,000,000), with fsync on, beside the bare put+commit of the
// same store on the same file in the same run: the ratio is what counts on a
// shared, noisy machine.

func benchOrders() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_ORDERS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

var (
	bigOnce    sync.Once
	bigStore   *store.Store
	bigDir     string
	bigScripts [][]string // per order: waybill, every unit's code, waybill
	bigNext    atomic.Int64
	bigLoad    time.Duration
	bigErr     error
	benchRun   atomic.Int64
)

// big returns the loaded store, built once per run: loaded without fsync, then
// reopened with fsync as the agent runs.
func big(b *testing.B) *store.Store {
	b.Helper()
	bigOnce.Do(func() {
		start := time.Now()
		bigDir, bigErr = os.MkdirTemp("", "dockhand-floor-bench-")
		if bigErr != nil {
			return
		}
		path := filepath.Join(bigDir, "floor.db")
		var s *store.Store
		if s, bigErr = store.Open(path, store.Options{Agent: "B", Warehouse: "HZ01", NoSync: true}); bigErr != nil {
			return
		}
		opts := sample.DefaultOptions()
		opts.Count = benchOrders()
		skip := map[string]bool{} // intercepted later in the stream
		var scripts [][]string
		var ids []string
		batch := make([]wire.FeedItem, 0, 5000)
		flush := func() error {
			_, err := s.ApplyFeed(batch)
			batch = batch[:0]
			return err
		}
		for m := range sample.Messages(opts) {
			mm := m
			batch = append(batch, wire.FeedItem{Msg: &mm})
			if o := m.Order; o != nil {
				if o.Version > 1 {
					skip[o.OrderID] = true
				} else if sc := script(o); sc != nil && len(scripts) < 400_000 {
					scripts = append(scripts, sc)
					ids = append(ids, o.OrderID)
				}
			}
			if len(batch) == cap(batch) {
				if bigErr = flush(); bigErr != nil {
					return
				}
			}
		}
		if bigErr = flush(); bigErr != nil {
			return
		}
		for i, sc := range scripts {
			if !skip[ids[i]] {
				bigScripts = append(bigScripts, sc)
			}
		}
		if bigErr = s.Close(); bigErr != nil {
			return
		}
		bigStore, bigErr = store.Open(path, store.Options{Agent: "B", Warehouse: "HZ01"})
		bigLoad = time.Since(start)
	})
	if bigErr != nil {
		b.Fatal(bigErr)
	}
	return bigStore
}

// script is the scans that verify o, or nil when o cannot be verified by scans
// alone (no waybill, an unlabelled line, a held batch).
func script(o *wire.Order) []string {
	if o.Waybill == nil || o.Status != wire.StatusReleased {
		return nil
	}
	sc := []string{o.Waybill.No}
	for _, l := range o.Lines {
		if len(l.Barcodes) == 0 || l.SKU == sample.HeldSKU {
			return nil
		}
		for range l.Qty {
			sc = append(sc, l.Barcodes[0])
		}
	}
	return append(sc, o.Waybill.No)
}

func TestMain(m *testing.M) {
	config.Default().Memory.Apply() // the collector as the daemon runs it
	code := m.Run()
	if bigStore != nil {
		bigStore.Close()
	}
	if bigDir != "" {
		os.RemoveAll(bigDir)
	}
	os.Exit(code)
}

// station walks order scripts one scan at a time, taking a fresh order from
// the shared pool whenever one is done.
type station struct {
	id  string
	sc  []string
	pos int
}

func (st *station) next(b *testing.B) string {
	if st.pos >= len(st.sc) {
		i := bigNext.Add(1) - 1
		if int(i) >= len(bigScripts) {
			b.Fatalf("ran out of orders after %d: raise BENCH_ORDERS or lower -benchtime", i)
		}
		st.sc, st.pos = bigScripts[i], 0
	}
	c := st.sc[st.pos]
	st.pos++
	return c
}

func report(b *testing.B, d []time.Duration) {
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(d[len(d)*99/100].Nanoseconds())/1e3, "p99-µs")
}

// BenchmarkScanVerdict1M is one station scanning (open, items, waybill) on the
// loaded store: the latency a packer feels, disk commit included. Each scan is
// followed by the bare operation under it — one small put and a durable commit
// of the same store, on the same file — so both see the same disk at the same
// moment: on a shared machine the fsync's tail swings by several times from one
// second to the next, and only measurements taken side by side compare.
func BenchmarkScanVerdict1M(b *testing.B) {
	e := New(big(b), Options{})
	st := &station{id: fmt.Sprintf("S%d", benchRun.Add(1))}
	sideBySide(b, func(int) (time.Duration, error) {
		code := st.next(b)
		t0 := time.Now()
		v, err := e.Scan(ctx, st.id, "W", code, "")
		d := time.Since(t0)
		if err == nil && !v.OK {
			err = fmt.Errorf("scan %s refused: %+v", code, v)
		}
		return d, err
	})
}

// BenchmarkScanOnceVerdict1M is BenchmarkScanVerdict1M with a page's scan id
// on every scan: what keeping the id and the verdict in the scan's own
// transaction costs.
func BenchmarkScanOnceVerdict1M(b *testing.B) {
	e := New(big(b), Options{})
	run := benchRun.Add(1)
	st := &station{id: fmt.Sprintf("S%d", run)}
	sideBySide(b, func(i int) (time.Duration, error) {
		code := st.next(b)
		id := fmt.Sprintf("bench-%d-%09d", run, i)
		t0 := time.Now()
		v, err := e.ScanOnce(ctx, id, st.id, "W", code, "")
		d := time.Since(t0)
		if err == nil && (!v.OK || v.Replayed) {
			err = fmt.Errorf("scan %s: %+v", code, v)
		}
		return d, err
	})
}

// sideBySide runs op b.N times, each followed by the baseline (a bare put and
// durable commit on the same store), and reports both latencies and the ratio
// of their p99s.
func sideBySide(b *testing.B, op func(i int) (time.Duration, error)) {
	s := big(b)
	val := make([]byte, 400)
	run := benchRun.Add(1)
	d := make([]time.Duration, 0, b.N)
	base := make([]time.Duration, 0, b.N)
	var pages, basePages int64
	b.ResetTimer()
	for i := range b.N {
		p0 := s.PagesWritten()
		t, err := op(i)
		if err != nil {
			b.Fatal(err)
		}
		d = append(d, t)
		p1 := s.PagesWritten()
		pages += p1 - p0
		t0 := time.Now()
		err = s.Update(func(tx *store.Tx) error {
			return tx.PutRaw("bench_baseline", fmt.Sprintf("%d-%09d", run, i), val)
		})
		base = append(base, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		basePages += s.PagesWritten() - p1
	}
	b.StopTimer()
	report(b, d)
	b.ReportMetric(float64(pages)/float64(b.N), "pages/op")
	b.ReportMetric(float64(basePages)/float64(b.N), "bare-pages/op")
	slices.Sort(base)
	p99, bp99 := d[len(d)*99/100], base[len(base)*99/100]
	b.ReportMetric(float64(base[len(base)/2].Nanoseconds())/1e3, "bare-p50-µs")
	b.ReportMetric(float64(bp99.Nanoseconds())/1e3, "bare-p99-µs")
	b.ReportMetric(float64(p99)/float64(bp99), "p99-ratio")
}

func benchStations(b *testing.B, n int, opts Options) {
	e := New(big(b), opts)
	run := benchRun.Add(1)
	var left atomic.Int64
	left.Store(int64(b.N))
	lat := make([][]time.Duration, n)
	var wg sync.WaitGroup
	c0, steps0 := e.s.GroupStats()
	b.ResetTimer()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := &station{id: fmt.Sprintf("R%d-S%02d", run, i)}
			for left.Add(-1) >= 0 {
				code := st.next(b)
				t0 := time.Now()
				v, err := e.Scan(ctx, st.id, "W", code, "")
				lat[i] = append(lat[i], time.Since(t0))
				if err != nil || !v.OK {
					b.Errorf("scan %s at %s: %+v, %v", code, st.id, v, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verdicts/s")
	if c, steps := e.s.GroupStats(); c > c0 && !opts.BoltBatch {
		b.ReportMetric(float64(steps-steps0)/float64(c-c0), "steps/commit")
	}
	report(b, slices.Concat(lat...))
}

// BenchmarkStations50 is 50 stations scanning at once through the engine's
// group commit.
func BenchmarkStations50(b *testing.B) { benchStations(b, 50, Options{}) }

// BenchmarkStations50BoltBatch is the same through bbolt's Batch, for
// comparison.
func BenchmarkStations50BoltBatch(b *testing.B) { benchStations(b, 50, Options{BoltBatch: true}) }

// BenchmarkLoad reports how long building the big store took.
func BenchmarkLoad(b *testing.B) {
	big(b)
	for range b.N {
	}
	b.ReportMetric(bigLoad.Seconds(), "load-s")
	b.ReportMetric(float64(len(bigScripts)), "scriptable-orders")
}
