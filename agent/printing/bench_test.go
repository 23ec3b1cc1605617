package printing

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/drivers/label"
	"github.com/dockhand/dockhand/drivers/printertest"
)

// benchPrintTime is the emulated printer's time per label in the throughput
// benchmarks: a fast printer, so that the queue's own overhead shows.
const benchPrintTime = time.Millisecond

func benchQueue(b *testing.B) (*Queue, *printertest.Printer, *store.Store) {
	b.Helper()
	st, err := store.Open(filepath.Join(b.TempDir(), "d.db"), store.Options{Agent: "HZ01-A", Warehouse: "HZ01"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	pr, err := printertest.Start()
	if err != nil {
		b.Fatal(err)
	}
	pr.SetPrintTime(benchPrintTime)
	b.Cleanup(pr.Close)
	q, err := New(Options{Store: st, Log: slog.New(slog.DiscardHandler)},
		[]PrinterConfig{{ID: "P1", URL: pr.URL(), Profile: Profile{Language: label.Language("tspl"), DPI: 203, WidthMM: 76, HeightMM: 130}}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q.Run(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	// Wait for the connection and a first printed job.
	j, err := q.SubmitRaw(ctx, "P1", "tspl", rawLabel("tspl", 0), "", "")
	if err != nil {
		b.Fatal(err)
	}
	if j, err = q.Wait(ctx, j.ID); err != nil || j.State != StatePrinted {
		b.Fatalf("warm-up job: %s %v", j.State, err)
	}
	return q, pr, st
}

// BenchmarkQueueLabels is how many labels per second the print-once queue
// sustains to a TCP printer on loopback with 8 submitters: labels/s until the
// printer itself confirmed every label printed (bounded by the emulated
// printer's 1 ms per label), delivered-labels/s until the last label's bytes
// arrived (compare with BenchmarkBareLabels).
func BenchmarkQueueLabels(b *testing.B) {
	q, pr, st := benchQueue(b)
	data := rawLabel("tspl", 1)
	ids := make([]string, b.N)
	c0, _ := st.GroupStats()
	q0 := pr.Queries()
	l0 := pr.Labels()
	delivered := make(chan time.Time, 1)
	pr.OnLabel(func(n int) {
		if n == l0+b.N {
			delivered <- time.Now()
		}
	})
	start := time.Now()
	b.ResetTimer()
	var wg sync.WaitGroup
	var next sync.Mutex
	n := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				i := n
				n++
				next.Unlock()
				if i >= b.N {
					return
				}
				j, err := q.SubmitRaw(context.Background(), "P1", "tspl", data, "", "")
				if err != nil {
					b.Error(err)
					return
				}
				ids[i] = j.ID
			}
		}()
	}
	wg.Wait()
	printed := 0
	for _, id := range ids {
		j, err := q.Wait(context.Background(), id)
		if err != nil {
			b.Fatal(err)
		}
		if j.State == StatePrinted {
			printed++
		}
	}
	b.StopTimer()
	c1, _ := st.GroupStats()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "labels/s")
	b.ReportMetric(float64(b.N)/(<-delivered).Sub(start).Seconds(), "delivered-labels/s")
	b.ReportMetric(float64(printed)/float64(b.N), "printed-ratio")
	b.ReportMetric(float64(c1-c0)/float64(b.N), "commits/label")
	b.ReportMetric(float64(pr.Queries()-q0)/float64(b.N), "queries/label")
}

// BenchmarkBareLabels is the baseline: the same label bytes written in a bare
// loop to the same kind of emulated printer, until it has counted them all.
func BenchmarkBareLabels(b *testing.B) {
	pr, err := printertest.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer pr.Close()
	pr.SetPrintTime(benchPrintTime)
	c, err := net.Dial("tcp", pr.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	data := rawLabel("tspl", 1)
	done := make(chan struct{})
	pr.OnLabel(func(n int) {
		if n == b.N {
			close(done)
		}
	})
	b.ResetTimer()
	for range b.N {
		if _, err := c.Write(data); err != nil {
			b.Fatal(err)
		}
	}
	<-done
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "labels/s")
}
