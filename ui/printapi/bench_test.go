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
// the print-once queue's durable commit included.
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
	time.Sleep(30 * time.Millisecond)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if code := post(b, c, url, r.key, body); code != http.StatusAccepted {
			b.Fatalf("status %d", code)
		}
		<-arrived
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	reportLatency(b, lat)
}

// BenchmarkBareCommitWrite is the baseline of BenchmarkAPIRawLatency: a bare
// durable store commit of the same bytes, then a bare TCP write of them to the
// same kind of emulated printer, until the printer has them.
func BenchmarkBareCommitWrite(b *testing.B) {
	st, err := store.Open(filepath.Join(b.TempDir(), "d.db"), store.Options{Agent: "A", Warehouse: "W"})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	pr, err := printertest.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer pr.Close()
	pr.SetPrintTime(time.Millisecond)
	conn, err := net.Dial("tcp", pr.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	arrived := make(chan struct{}, 1)
	pr.OnLabel(func(int) { arrived <- struct{}{} })
	data := []byte(rawLabelBytes(""))
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		if err := st.Update(func(tx *store.Tx) error { return tx.PutRaw("bench", fmt.Sprint(i), data) }); err != nil {
			b.Fatal(err)
		}
		if _, err := conn.Write(data); err != nil {
			b.Fatal(err)
		}
		<-arrived
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	reportLatency(b, lat)
}

const burst = 500

// BenchmarkAPIBurst500 sends bursts of 500 raw label jobs at once through the
// local print API (64 connections): jobs/s is until every job was durably
// queued and answered, delivered-jobs/s until the last label reached the
// printer.
func BenchmarkAPIBurst500(b *testing.B) {
	r := newRig(b, rigOpts{quiet: true})
	r.pr.SetPrintTime(time.Millisecond / 4)
	c := benchClient()
	url := r.srv.URL + "/api/print/jobs/raw"
	body, _ := json.Marshal(rawJob(""))
	post(b, c, url, r.key, body)
	var answered, delivered time.Duration
	c0, calls0 := r.st.GroupStats()
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
	}
	b.StopTimer()
	b.ReportMetric(float64(burst*b.N)/answered.Seconds(), "jobs/s")
	b.ReportMetric(float64(burst*b.N)/delivered.Seconds(), "delivered-jobs/s")
	c1, calls1 := r.st.GroupStats()
	b.ReportMetric(float64(c1-c0)/float64(burst*b.N), "commits/job")
	b.ReportMetric(float64(calls1-calls0)/float64(c1-c0), "calls/commit")
}

// BenchmarkBareBurst500 is the baseline of BenchmarkAPIBurst500: 500 requests
// at once to a bare handler that makes one grouped durable commit of the bytes.
func BenchmarkBareBurst500(b *testing.B) {
	st, err := store.Open(filepath.Join(b.TempDir(), "d.db"), store.Options{Agent: "A", Warehouse: "W"})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
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
	defer srv.Close()
	c := benchClient()
	body, _ := json.Marshal(rawJob(""))
	var answered time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		fire(b, burst, 64, func() { post(b, c, srv.URL, "", body) })
		answered += time.Since(t0)
	}
	b.StopTimer()
	b.ReportMetric(float64(burst*b.N)/answered.Seconds(), "jobs/s")
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
