package store

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dockhand/dockhand/agent/sample"
	"github.com/dockhand/dockhand/sync/wire"
)

// The benchmarks here measure the store against bare bbolt doing the same I/O in
// the same run, so that the ratio means something on a shared, noisy machine.
// Run them with `make bench`; BENCH_ORDERS sets the size of the big store
// (default 1,000,000 orders).

func benchOrders() int {
	if v := os.Getenv("BENCH_ORDERS"); v != "" {
		var n int
		fmt.Sscan(v, &n)
		if n > 0 {
			return n
		}
	}
	return 1_000_000
}

// feedBatches streams a generated feed as ApplyFeed batches.
func feedBatches(n, size int, fn func([]wire.FeedItem) error) error {
	opts := sample.DefaultOptions()
	opts.Count = n
	batch := make([]wire.FeedItem, 0, size)
	var seq uint64
	for m := range sample.Messages(opts) {
		seq++
		m.Seq = seq
		// Through the wire and back, as the hub link hands messages over (with
		// the order's raw bytes).
		b, err := wire.EncodeFeed(m)
		if err != nil {
			return err
		}
		mm, err := wire.DecodeFeed(b)
		if err != nil {
			return err
		}
		batch = append(batch, wire.FeedItem{Msg: &mm})
		if len(batch) == size {
			if err := fn(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		return fn(batch)
	}
	return nil
}

var (
	bigOnce  sync.Once
	bigStore *Store
	bigDir   string
	bigWB    []string
	bigCodes []string
	bigLoad  time.Duration
	bigMsgs  int
	bigErr   error
)

// big returns a store loaded with benchOrders() orders, built once per run.
func big(b *testing.B) *Store {
	bigOnce.Do(func() {
		bigDir, bigErr = os.MkdirTemp("", "dockhand-bench-")
		if bigErr != nil {
			return
		}
		bigStore, bigErr = Open(filepath.Join(bigDir, "big.db"), Options{Agent: "B", Warehouse: "HZ01"})
		if bigErr != nil {
			return
		}
		start := time.Now()
		bigErr = feedBatches(benchOrders(), 5000, func(items []wire.FeedItem) error {
			bigMsgs += len(items)
			for _, it := range items {
				if o := it.Msg.Order; o != nil && len(bigWB) < 100_000 {
					if o.Waybill != nil {
						bigWB = append(bigWB, o.Waybill.No)
					}
					if len(o.Lines[0].Barcodes) > 0 {
						bigCodes = append(bigCodes, o.Lines[0].Barcodes[0])
					}
				}
			}
			_, err := bigStore.ApplyFeed(items)
			return err
		})
		bigLoad = time.Since(start)
	})
	if bigErr != nil {
		b.Fatal(bigErr)
	}
	return bigStore
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bigStore != nil {
		bigStore.Close()
		os.RemoveAll(bigDir)
	}
	os.Exit(code)
}

// BenchmarkLoad1M reports how long loading the big store took (once per run),
// its size per order, and orders/s.
func BenchmarkLoad1M(b *testing.B) {
	s := big(b)
	st, err := s.Stats()
	if err != nil {
		b.Fatal(err)
	}
	for range b.N {
	}
	b.ReportMetric(bigLoad.Seconds(), "load-s")
	b.ReportMetric(float64(bigMsgs)/bigLoad.Seconds(), "msgs/s")
	b.ReportMetric(float64(st.FileBytes)/float64(st.Orders), "bytes/order")
}

// percentiles runs fn n times and reports p50 and p99 in µs.
func percentiles(b *testing.B, n int, fn func(i int)) {
	b.Helper()
	d := make([]time.Duration, n)
	// One pass first, so that every benchmark meets the same warm pages.
	for i := range n {
		fn(i)
	}
	b.ResetTimer()
	for i := range n {
		t := time.Now()
		fn(i)
		d[i] = time.Since(t)
	}
	b.StopTimer()
	slices.Sort(d)
	b.ReportMetric(float64(d[n/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(d[n*99/100].Nanoseconds())/1e3, "p99-µs")
}

// BenchmarkResolveWaybill1M resolves a waybill number to its order id: the
// lookup itself, beside BenchmarkBaselineBoltGet1M.
func BenchmarkResolveWaybill1M(b *testing.B) {
	s := big(b)
	for range b.N {
		percentiles(b, 20000, func(i int) {
			_ = s.View(func(tx *Tx) error {
				if _, err := tx.OrderIDByWaybill(bigWB[(i*7919)%len(bigWB)]); err != nil {
					b.Fatal(err)
				}
				return nil
			})
		})
	}
}

// BenchmarkLookupWaybill1M resolves a waybill number and reads the whole order
// (index get, order get, JSON decode): what a scan that opens an order costs.
func BenchmarkLookupWaybill1M(b *testing.B) {
	s := big(b)
	for range b.N {
		percentiles(b, 20000, func(i int) {
			_ = s.View(func(tx *Tx) error {
				_, err := tx.OrderByWaybill(bigWB[(i*7919)%len(bigWB)])
				if err != nil {
					b.Fatal(err)
				}
				return nil
			})
		})
	}
}

func BenchmarkLookupBarcode1M(b *testing.B) {
	s := big(b)
	for range b.N {
		percentiles(b, 20000, func(i int) {
			_ = s.View(func(tx *Tx) error {
				if len(tx.LookupBarcode(bigCodes[(i*7919)%len(bigCodes)])) == 0 {
					b.Fatal("barcode not found")
				}
				return nil
			})
		})
	}
}

// BenchmarkBaselineBoltGet1M is a bare bbolt Get of the raw key in a read
// transaction on the same file: the floor of any lookup.
func BenchmarkBaselineBoltGet1M(b *testing.B) {
	db := big(b).db
	for range b.N {
		percentiles(b, 20000, func(i int) {
			_ = db.View(func(tx *bolt.Tx) error {
				if tx.Bucket([]byte("idx_waybill")).Get([]byte(bigWB[(i*7919)%len(bigWB)])) == nil {
					b.Fatal("waybill key not found")
				}
				return nil
			})
		})
	}
}

// BenchmarkApplyFeed measures order.upsert apply into a fresh store, 5,000 per
// transaction, beside BenchmarkBaselineBoltBatchWrites doing the same bytes.
func BenchmarkApplyFeed(b *testing.B) {
	const n = 50_000
	var msgs [][]wire.FeedItem
	_ = feedBatches(n, 5000, func(items []wire.FeedItem) error {
		msgs = append(msgs, slices.Clone(items))
		return nil
	})
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		s, err := Open(filepath.Join(b.TempDir(), "a.db"), Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for _, batch := range msgs {
			if _, err := s.ApplyFeed(batch); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "orders/s")
}

func BenchmarkBaselineBoltBatchWrites(b *testing.B) {
	const n = 50_000
	var vals [][]byte
	var keys []string
	_ = feedBatches(n, 5000, func(items []wire.FeedItem) error {
		for _, it := range items {
			if it.Msg.Order != nil {
				v, _ := json.Marshal(it.Msg.Order)
				vals = append(vals, v)
				keys = append(keys, it.Msg.Order.OrderID)
			}
		}
		return nil
	})
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		db, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for i := 0; i < len(vals); i += 5000 {
			err := db.Update(func(tx *bolt.Tx) error {
				bk, err := tx.CreateBucketIfNotExists([]byte("o"))
				if err != nil {
					return err
				}
				for j := i; j < i+5000 && j < len(vals); j++ {
					if err := bk.Put([]byte(keys[j]), vals[j]); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(len(vals)*b.N)/b.Elapsed().Seconds(), "orders/s")
}

// BenchmarkBaselineBoltPutCommit is one bare bbolt put + durable commit: the
// floor under every floor step's latency.
func BenchmarkBaselineBoltPutCommit(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "pc.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	v := make([]byte, 400)
	var seq uint64
	for range b.N {
		percentiles(b, 2000, func(int) {
			_ = db.Update(func(tx *bolt.Tx) error {
				bk, _ := tx.CreateBucketIfNotExists([]byte("e"))
				seq++
				return bk.Put([]byte(fmt.Sprint(seq)), v)
			})
		})
	}
}
