package printapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/drivers/printertest"
)

// The emulated printer in these benchmarks prints a label in 1 ms (a fast
// printer), so that the API's and the queue's own overhead shows.

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512}}
}

func post(b *testing.B, c *http.Client, url, key string, body []byte) int {
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set(keyHeader, key)
	resp, err := c.Do(req)
	if err != nil {
		b.Error(err)
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
}

// BenchmarkAPIRawLatency is one raw label job at a time through the local
// print API, from the request to its last byte at a loopback TCP printer, with
// the print-once queue's durable commit included. Each iteration also runs the
// baseline (BenchmarkBareCommitWrite's bare commit and write) right after, so
// that the ratio holds on a shared, noisy disk: bare-p50-µs, bare-p99-µs and
// p99-ratio.
func BenchmarkAPIRawLatency(b *testing.B) {
	r := newRig(b, rigOpts{quiet: true})
	r.pr.SetPrintTime(time.Millisecond)
	c := benchClient()
	arrived := make(chan struct{}, 1)
	r.pr.OnLabel(func(int) { arrived <- struct{}{} })
	body, _ := json.Marshal(rawJob(""))
	url := r.srv.URL + "/api/print/jobs/raw"
	post(b, c, url, r.key, body) // warm up: connection, status
	<-arrived
	bare := newBare(b)
	lat := make([]time.Duration, 0, b.N)
	base := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		if code := post(b, c, url, r.key, body); code != http.StatusAccepted {
			b.Fatalf("status %d", code)
		}
		<-arrived
		lat = append(lat, time.Since(t0))
		base = append(base, bare.once(b, i))
	}
	b.StopTimer()
	reportLatency(b, lat)
	slices.Sort(lat)
	slices.Sort(base)
	p := func(l []time.Duration, q float64) time.Duration { return l[int(q*float64(len(l)-1))] }
	b.ReportMetric(float64(p(base, 0.5).Microseconds()), "bare-p50-µs")
	b.ReportMetric(float64(p(base, 0.99).Microseconds()), "bare-p99-µs")
	b.ReportMetric(float64(p(lat, 0.99))/float64(p(base, 0.99)), "p99-ratio")
}

// bare is the baseline: a store of its own, an emulated printer of its own.
type bare struct {
	st      *store.Store
	conn    net.Conn
	arrived chan struct{}
	data    []byte
}

func newBare(b *testing.B) *bare {
	st, err := store.Open(filepath.Join(b.TempDir(), "bare.db"), store.Options{Agent: "A", Warehouse: "W"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	pr, err := printertest.Start()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pr.Close)
	pr.SetPrintTime(time.Millisecond)
	conn, err := net.Dial("tcp", pr.Addr())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	x := &bare{st: st, conn: conn, arrived: make(chan struct{}, 1), data: []byte(rawLabelBytes(""))}
	pr.OnLabel(func(int) { x.arrived <- struct{}{} })
	return x
}

// once is a bare durable commit of the label's bytes, then a bare TCP write of
// them, until the printer has them.
func (x *bare) once(b *testing.B, i int) time.Duration {
	t0 := time.Now()
	if err := x.st.Update(func(tx *store.Tx) error { return tx.PutRaw("bench", fmt.Sprint(i), x.data) }); err != nil {
		b.Fatal(err)
	}
	if _, err := x.conn.Write(x.data); err != nil {
		b.Fatal(err)
	}
	<-x.arrived
	return time.Since(t0)
}

// BenchmarkBareCommitWrite is the baseline of BenchmarkAPIRawLatency on its
// own: a bare durable store commit of the same bytes, then a bare TCP write of
// them to the same kind of emulated printer, until the printer has them.
func BenchmarkBareCommitWrite(b *testing.B) {
	x := newBare(b)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		lat = append(lat, x.once(b, i))
	}
	b.StopTimer()
	reportLatency(b, lat)
}

const burst = 500

// BenchmarkAPIBurst500 sends bursts of 500 raw label jobs at once through the
// local print API (64 connections): jobs/s is until every job was durably
// queued and answered, delivered-jobs/s until the last label reached the
// printer. Each iteration also runs BenchmarkBareBurst500's baseline
// (bare-jobs/s) after the printer has its labels.
func BenchmarkAPIBurst500(b *testing.B) {
	r := newRig(b, rigOpts{quiet: true})
	r.pr.SetPrintTime(time.Millisecond / 4)
	c := benchClient()
	url := r.srv.URL + "/api/print/jobs/raw"
	body, _ := json.Marshal(rawJob(""))
	post(b, c, url, r.key, body)
	var answered, delivered, bareAnswered time.Duration
	c0, calls0 := r.st.GroupStats()
	x := newBareServer(b)
	b.ResetTimer()
	for range b.N {
		want := r.pr.Labels() + burst
		got := make(chan time.Time, 1)
		r.pr.OnLabel(func(n int) {
			if n == want {
				got <- time.Now()
			}
		})
		t0 := time.Now()
		fire(b, burst, 64, func() {
			if code := post(b, c, url, r.key, body); code != http.StatusAccepted {
				b.Errorf("status %d", code)
			}
		})
		answered += time.Since(t0)
		delivered += (<-got).Sub(t0)
		bareAnswered += x.burst(b)
	}
	b.StopTimer()
	b.ReportMetric(float64(burst*b.N)/bareAnswered.Seconds(), "bare-jobs/s")
	b.ReportMetric(float64(burst*b.N)/answered.Seconds(), "jobs/s")
	b.ReportMetric(float64(burst*b.N)/delivered.Seconds(), "delivered-jobs/s")
	c1, calls1 := r.st.GroupStats()
	b.ReportMetric(float64(c1-c0)/float64(burst*b.N), "commits/job")
	b.ReportMetric(float64(calls1-calls0)/float64(c1-c0), "calls/commit")
}

// BenchmarkBareBurst500 is the baseline of BenchmarkAPIBurst500: 500 requests
// at once to a bare handler that makes one grouped durable commit of the bytes.
func BenchmarkBareBurst500(b *testing.B) {
	x := newBareServer(b)
	var answered time.Duration
	b.ResetTimer()
	for range b.N {
		answered += x.burst(b)
	}
	b.StopTimer()
	b.ReportMetric(float64(burst*b.N)/answered.Seconds(), "jobs/s")
}

type bareServer struct {
	url  string
	c    *http.Client
	body []byte
}

func newBareServer(b *testing.B) *bareServer {
	st, err := store.Open(filepath.Join(b.TempDir(), "bare.db"), store.Options{Agent: "A", Warehouse: "W"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	var seq sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		seq.Lock()
		n++
		k := fmt.Sprint(n)
		seq.Unlock()
		if err := st.Group(func(tx *store.Tx) error { return tx.PutRaw("bench", k, data) }); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	b.Cleanup(srv.Close)
	body, _ := json.Marshal(rawJob(""))
	return &bareServer{url: srv.URL, c: benchClient(), body: body}
}

// burst sends 500 requests at once and returns how long until all were answered.
func (x *bareServer) burst(b *testing.B) time.Duration {
	t0 := time.Now()
	fire(b, burst, 64, func() { post(b, x.c, x.url, "", x.body) })
	return time.Since(t0)
}

// fire runs fn n times on workers goroutines.
func fire(b *testing.B, n, workers int, fn func()) {
	var wg sync.WaitGroup
	jobs := make(chan struct{}, n)
	for range n {
		jobs <- struct{}{}
	}
	close(jobs)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				fn()
			}
		}()
	}
	wg.Wait()
}
