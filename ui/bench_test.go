package ui_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/dockhand/dockhand/agent/sample"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/wire"
)

// BenchmarkScanPushTo200Pages: a packer's scan through the API (real engine,
// real store, fsync) until its verdict reaches 200 pages following the station
// over loopback websockets. p99 is over every delivery.
func BenchmarkScanPushTo200Pages(b *testing.B) {
	e := newRealEnv(b, false)
	e.loadOrders()
	m := e.client().signIn("M1", "9000", "")
	k := e.client().signIn("K1", "1111", "PACK-01")
	hdr := http.Header{"Origin": {e.http.URL}}
	for _, ck := range m.hc.Jar.Cookies(mustURL(e.http.URL)) {
		hdr.Add("Cookie", ck.Name+"="+ck.Value)
	}
	const pages = 200
	var mu sync.Mutex
	var lat []time.Duration
	sent := map[string]time.Time{}
	got := 0
	var wg sync.WaitGroup
	var conns []*websocket.Conn
	for range pages {
		c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(e.http.URL, "http")+"/api/live?station=PACK-01", hdr)
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, p, err := c.ReadMessage()
				if err != nil {
					return
				}
				now := time.Now()
				// A light reader: 200 pages share this machine's two cores with
				// the agent, so they only pick out the code.
				i := bytes.Index(p, []byte(`"code":"NOPE-`))
				if i < 0 || !bytes.Contains(p[:min(len(p), 40)], []byte(`"type":"verdict"`)) {
					continue
				}
				code := p[i+8:]
				code = code[:bytes.IndexByte(code, '"')]
				mu.Lock()
				if t, ok := sent[string(code)]; ok {
					lat = append(lat, now.Sub(t))
					got++
				}
				mu.Unlock()
			}
		}()
	}
	for e.srv.Hub().Subscribers() < pages {
		time.Sleep(time.Millisecond)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		code := fmt.Sprintf("NOPE-%d", i)
		mu.Lock()
		sent[code] = time.Now()
		mu.Unlock()
		k.scan("pack", code)
		for {
			mu.Lock()
			n := got
			mu.Unlock()
			if n >= (i+1)*pages {
				break
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
	b.StopTimer()
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

// BenchmarkScanHTTP is the baseline: the same scan through the API with no page
// listening.
func BenchmarkScanHTTP(b *testing.B) {
	e := newRealEnv(b, false)
	e.loadOrders()
	k := e.client().signIn("K1", "1111", "PACK-01")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k.scan("pack", fmt.Sprintf("NOPE-%d", i))
	}
}

func firstLoad(b *testing.B, h http.Handler, gz bool) int {
	n := 0
	req := httptest.NewRequest("GET", "/pda", nil)
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Body)
	n += len(body)
	for _, f := range []string{"app.js", "app.css"} {
		// The versioned names are in index.html; the version does not change the size.
		req := httptest.NewRequest("GET", "/static/dev/"+f, nil)
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		n += rec.Body.Len()
	}
	return n
}

// BenchmarkPDAFirstLoadGzip: bytes a PDA transfers on its first load (index.html,
// app.js, app.css, gzip); the target is < 200 KB.
func BenchmarkPDAFirstLoadGzip(b *testing.B) {
	e := newEnv(b, false)
	n := 0
	for i := 0; i < b.N; i++ {
		n = firstLoad(b, e.srv, true)
	}
	b.ReportMetric(float64(n), "bytes/load")
}

// BenchmarkPDAFirstLoadRaw is the baseline: the same files uncompressed.
func BenchmarkPDAFirstLoadRaw(b *testing.B) {
	e := newEnv(b, false)
	n := 0
	for i := 0; i < b.N; i++ {
		n = firstLoad(b, e.srv, false)
	}
	b.ReportMetric(float64(n), "bytes/load")
}

// loadSample puts n generated orders into the env's store.
func loadSample(b *testing.B, e *env, n int) {
	b.Helper()
	opts := sample.DefaultOptions()
	opts.Count, opts.Start, opts.Interval = n, t0.Add(-48*time.Hour), 5*time.Second
	var items []wire.FeedItem
	flush := func() {
		if _, err := e.st.ApplyFeed(items); err != nil {
			b.Fatal(err)
		}
		items = items[:0]
	}
	for m := range sample.Messages(opts) {
		m := m
		items = append(items, wire.FeedItem{Msg: &m})
		if len(items) == 2000 {
			flush()
		}
	}
	flush()
}

// BenchmarkManagerCounts: the live counts with 20,000 open orders (what each
// counts push costs on a peak day).
func BenchmarkManagerCounts(b *testing.B) {
	e := newEnv(b, false)
	loadSample(b, e, 20000)
	m := e.client().signIn("M1", "9000", "")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if st, _, raw := m.do("GET", "/api/manager/counts", nil); st != 200 {
			b.Fatalf("%d %s", st, raw)
		}
	}
}

// BenchmarkOpenOrdersScan is the baseline: one bare pass over the same open orders.
func BenchmarkOpenOrdersScan(b *testing.B) {
	e := newEnv(b, false)
	loadSample(b, e, 20000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		e.st.View(func(tx *store.Tx) error {
			return tx.OpenOrders(func(*store.OrderRecord) bool { n++; return true })
		})
		if n < 19000 {
			b.Fatalf("only %d open orders", n)
		}
	}
}
