package live

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func ids(ms []Message) []uint64 {
	var out []uint64
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func TestSubscribeResume(t *testing.T) {
	h := New(Options{Ring: 8, StartID: 100})
	for i := range 6 {
		h.Publish(TypeVerdict, Audience{Station: "PACK-0" + strconv.Itoa(i%2)}, i)
	}
	tests := []struct {
		name   string
		v      Viewer
		since  uint64
		want   []uint64
		resync bool
	}{
		{"new only", Viewer{Station: "PACK-00"}, 0, nil, false},
		{"up to date", Viewer{Station: "PACK-00"}, 106, nil, false},
		{"station filter", Viewer{Station: "PACK-00"}, 101, []uint64{103, 105}, false},
		{"all stations", Viewer{AllStations: true}, 103, []uint64{104, 105, 106}, false},
		{"from the start", Viewer{Station: "PACK-01"}, 100, []uint64{102, 104, 106}, false},
		{"future id (restart)", Viewer{Station: "PACK-01"}, 500, nil, true},
		{"before the hub", Viewer{Station: "PACK-01"}, 5, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, missed, last, resync := h.Subscribe(tt.v, tt.since)
			defer s.Close()
			if last != 106 || resync != tt.resync || !equal(ids(missed), tt.want) {
				t.Fatalf("got %v last=%d resync=%v, want %v resync=%v", ids(missed), last, resync, tt.want, tt.resync)
			}
		})
	}
	// Overflow the ring: 8 kept (107..114 after 8 more); since=101 lost 102..106.
	for i := range 8 {
		h.Publish(TypeCounts, Audience{}, i)
	}
	if _, _, _, resync := h.Subscribe(Viewer{}, 101); !resync {
		t.Fatal("messages that left the ring must cause a resync")
	}
	if _, missed, _, resync := h.Subscribe(Viewer{}, 106); resync || len(missed) != 8 {
		t.Fatalf("since=oldest-1: %v %v", ids(missed), resync)
	}
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAudience(t *testing.T) {
	tests := []struct {
		a    Audience
		v    Viewer
		want bool
	}{
		{Audience{}, Viewer{Role: "temp"}, true},
		{Audience{Roles: []string{"manager"}}, Viewer{Role: "packer"}, false},
		{Audience{Roles: []string{"manager"}}, Viewer{Role: "manager"}, true},
		{Audience{Station: "P1"}, Viewer{Station: "P2"}, false},
		{Audience{Station: "P1"}, Viewer{Station: "P2", AllStations: true}, true},
		{Audience{Operator: "W1"}, Viewer{Operator: "W2"}, false},
	}
	for i, tt := range tests {
		if got := tt.a.Matches(tt.v); got != tt.want {
			t.Errorf("%d: %+v matches %+v = %v", i, tt.a, tt.v, got)
		}
	}
}

func TestSlowSubscriberDropped(t *testing.T) {
	h := New(Options{Queue: 2})
	slow, _, _, _ := h.Subscribe(Viewer{}, 0)
	fast, _, _, _ := h.Subscribe(Viewer{}, 0)
	done := make(chan int)
	go func() {
		n := 0
		for range fast.C() {
			n++
			if n == 10 {
				break
			}
		}
		done <- n
	}()
	for i := range 10 {
		if _, err := h.Publish(TypeCounts, Audience{}, i); err != nil {
			t.Fatal(err)
		}
		if i < 9 {
			// Let the fast reader keep up; the slow one never reads.
			for len(fast.ch) > 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}
	if n := <-done; n != 10 {
		t.Fatalf("fast got %d", n)
	}
	got := 0
	for range slow.C() { // closed after its 2 queued messages
		got++
	}
	if got != 2 || h.Subscribers() != 1 {
		t.Fatalf("slow got %d, subscribers %d", got, h.Subscribers())
	}
}

func wsURL(srv *httptest.Server, q string) string {
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws" + q
}

func server(t testing.TB, h *Hub, v Viewer) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) { h.ServeWS(w, r, v) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func dial(t testing.TB, srv *httptest.Server, q string) *websocket.Conn {
	t.Helper()
	hdr := http.Header{"Origin": {srv.URL}}
	c, resp, err := websocket.DefaultDialer.Dial(wsURL(srv, q), hdr)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	return c
}

func TestOriginRejected(t *testing.T) {
	h := New(Options{})
	srv := server(t, h, Viewer{})
	for _, origin := range []string{"http://evil.example", "null"} {
		_, resp, err := websocket.DefaultDialer.Dial(wsURL(srv, ""), http.Header{"Origin": {origin}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("origin %s: err=%v resp=%v", origin, err, resp)
		}
	}
	c := dial(t, srv, "")
	c.Close()
}

// TestWebsocketResumeNoLossNoDup publishes without pause while a page drops its
// connection again and again and resumes with ?since=: the page must end up with
// every message for its station exactly once and in order.
func TestWebsocketResumeNoLossNoDup(t *testing.T) {
	h := New(Options{Ring: 100000})
	srv := server(t, h, Viewer{Station: "PACK-01"})
	const total = 3000
	var published []uint64
	var pubMu sync.Mutex
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		for i := range total {
			st := "PACK-01"
			if i%3 == 0 {
				st = "PACK-02"
			}
			id, _ := h.Publish(TypeVerdict, Audience{Station: st}, map[string]int{"n": i})
			if st == "PACK-01" {
				pubMu.Lock()
				published = append(published, id)
				pubMu.Unlock()
			}
			if i%100 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	var got []uint64
	var since, start uint64 // start: messages up to the first hello are not expected
	first := true
	for round := 0; ; round++ {
		q := ""
		if !first {
			q = "?since=" + strconv.FormatUint(since, 10)
		}
		c := dial(t, srv, q)
		var hello Message
		if err := c.ReadJSON(&hello); err != nil || hello.Type != TypeHello {
			t.Fatalf("hello: %v %+v", err, hello)
		}
		if first {
			var hd struct{ Last uint64 }
			json.Unmarshal(hello.Data, &hd)
			since, start = hd.Last, hd.Last
			first = false
		}
		// Read a few messages, then drop the connection abruptly.
		for n := 0; n < 50+round*7; n++ {
			c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			var m Message
			if err := c.ReadJSON(&m); err != nil {
				break
			}
			if m.Type == TypeResync {
				t.Fatal("unexpected resync")
			}
			if m.ID <= since {
				t.Fatalf("duplicate or out of order: %d after %d", m.ID, since)
			}
			if m.Station != "PACK-01" {
				t.Fatalf("other station's message: %+v", m)
			}
			got = append(got, m.ID)
			since = m.ID
		}
		c.NetConn().Close()
		select {
		case <-pubDone:
			if ctx.Err() == nil {
				// One last resume to collect the tail.
				cancel()
				continue
			}
		default:
			continue
		}
		break
	}
	// Drain the tail.
	c := dial(t, srv, "?since="+strconv.FormatUint(since, 10))
	defer c.Close()
	var hello Message
	c.ReadJSON(&hello)
	pubMu.Lock()
	var want []uint64
	for _, id := range published {
		if id > start {
			want = append(want, id)
		}
	}
	pubMu.Unlock()
	for len(got) < len(want) || (len(want) > 0 && got[len(got)-1] < want[len(want)-1]) {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		var m Message
		if err := c.ReadJSON(&m); err != nil {
			t.Fatalf("tail: %v after %d of %d", err, len(got), len(want))
		}
		got = append(got, m.ID)
	}
	if !equal(got, want) {
		t.Fatalf("got %d messages, want %d: lost or duplicated", len(got), len(want))
	}
}

func TestWebsocketResync(t *testing.T) {
	h := New(Options{Ring: 4})
	srv := server(t, h, Viewer{})
	c := dial(t, srv, "")
	var hello Message
	c.ReadJSON(&hello)
	var hd struct{ Last uint64 }
	json.Unmarshal(hello.Data, &hd)
	c.Close()
	for i := range 10 {
		h.Publish(TypeCounts, Audience{}, i)
	}
	c = dial(t, srv, "?since="+strconv.FormatUint(hd.Last, 10))
	defer c.Close()
	var m1, m2 Message
	c.ReadJSON(&m1)
	c.ReadJSON(&m2)
	if m1.Type != TypeHello || m2.Type != TypeResync {
		t.Fatalf("got %s then %s, want hello then resync", m1.Type, m2.Type)
	}
	// Live messages keep flowing after the resync.
	id, _ := h.Publish(TypeCounts, Audience{}, "x")
	var m3 Message
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if err := c.ReadJSON(&m3); err != nil || m3.ID != id {
		t.Fatalf("after resync: %v %+v", err, m3)
	}
}

func TestKick(t *testing.T) {
	h := New(Options{})
	a, _, _, _ := h.Subscribe(Viewer{Session: "s1", Operator: "K1"}, 0)
	b, _, _, _ := h.Subscribe(Viewer{Session: "s2", Operator: "K1"}, 0)
	c, _, _, _ := h.Subscribe(Viewer{Session: "s3", Operator: "P1"}, 0)
	if n := h.Kick(func(v Viewer) bool { return v.Operator == "K1" }); n != 2 {
		t.Fatalf("kicked %d", n)
	}
	for _, s := range []*Sub{a, b} {
		if _, ok := <-s.C(); ok {
			t.Fatal("a kicked subscriber's channel must be closed")
		}
	}
	h.Publish(TypeCounts, Audience{}, 1)
	if m := <-c.C(); m.Type != TypeCounts {
		t.Fatalf("the other subscriber: %+v", m)
	}
	a.Close() // closing twice is harmless
}
