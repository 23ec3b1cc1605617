package live

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

const benchClients = 200

// fanout connects n websocket readers and reports, per received message, the
// latency from the "sent" timestamp in its payload.
type fanout struct {
	mu  sync.Mutex
	lat []time.Duration
	wg  sync.WaitGroup
}

type stamp struct {
	N    int   `json:"n"`
	Sent int64 `json:"sent"`
}

func (f *fanout) read(b *testing.B, c *websocket.Conn, raw bool) {
	defer f.wg.Done()
	for {
		_, p, err := c.ReadMessage()
		if err != nil {
			return
		}
		now := time.Now()
		var s stamp
		if raw {
			json.Unmarshal(p, &s)
		} else {
			var m Message
			if json.Unmarshal(p, &m) != nil || m.Type != TypeVerdict {
				continue
			}
			json.Unmarshal(m.Data, &s)
		}
		f.mu.Lock()
		f.lat = append(f.lat, now.Sub(time.Unix(0, s.Sent)))
		f.mu.Unlock()
	}
}

func (f *fanout) report(b *testing.B) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.lat) == 0 {
		b.Fatal("no message received")
	}
	slices.Sort(f.lat)
	p := func(q float64) float64 {
		return float64(f.lat[min(len(f.lat)-1, int(q*float64(len(f.lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(p(0.50), "p50-ms")
	b.ReportMetric(p(0.99), "p99-ms")
	b.ReportMetric(float64(len(f.lat))/float64(b.N), "deliveries/op")
}

// BenchmarkPushTo200Clients: one verdict published to the hub reaches 200 pages of
// the same station over real loopback websockets; p99 is per delivered message.
func BenchmarkPushTo200Clients(b *testing.B) {
	h := New(Options{Queue: 1024})
	srv := server(b, h, Viewer{Station: "PACK-01"})
	f := &fanout{}
	var conns []*websocket.Conn
	for range benchClients {
		c := dial(b, srv, "")
		conns = append(conns, c)
		f.wg.Add(1)
		go f.read(b, c, false)
	}
	for h.Subscribers() < benchClients {
		time.Sleep(time.Millisecond)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.Publish(TypeVerdict, Audience{Station: "PACK-01"}, stamp{N: i, Sent: time.Now().UnixNano()})
		// One scan at a time, as a packer works: wait for this one to land everywhere.
		waitFor(f, (i+1)*benchClients)
	}
	b.StopTimer()
	for _, c := range conns {
		c.Close()
	}
	f.wg.Wait()
	f.report(b)
}

// BenchmarkRawWriteTo200Clients is the baseline: the same payload written straight
// to 200 gorilla connections in a loop, no hub, no filter, no queue.
func BenchmarkRawWriteTo200Clients(b *testing.B) {
	up := websocket.Upgrader{}
	var mu sync.Mutex
	var server []*websocket.Conn
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		mu.Lock()
		server = append(server, c)
		mu.Unlock()
	}))
	defer srv.Close()
	f := &fanout{}
	var conns []*websocket.Conn
	for range benchClients {
		c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
		f.wg.Add(1)
		go f.read(b, c, true)
	}
	for {
		mu.Lock()
		n := len(server)
		mu.Unlock()
		if n == benchClients {
			break
		}
		time.Sleep(time.Millisecond)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, _ := json.Marshal(stamp{N: i, Sent: time.Now().UnixNano()})
		for _, c := range server {
			c.WriteMessage(websocket.TextMessage, p)
		}
		waitFor(f, (i+1)*benchClients)
	}
	b.StopTimer()
	for _, c := range conns {
		c.Close()
	}
	f.wg.Wait()
	f.report(b)
}

func waitFor(f *fanout, n int) {
	for {
		f.mu.Lock()
		got := len(f.lat)
		f.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(20 * time.Microsecond)
	}
}
